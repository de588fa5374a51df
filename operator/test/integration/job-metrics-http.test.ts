// The per-job gauges on the operator's /metrics over real HTTP, with a real kube-apiserver and a real
// nats-server: each job's series equal its status as the API server returns it while the job trains
// (progress events on NATS) and once it succeeded, and a deleted job's series are gone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CLIENT_STATUS_STATES, GROUP, PLURAL, VERSION, jobToken, type Status } from "@sfprompt/api";
import { waitFor } from "@sfprompt/kube-testing";
import { ensureJobResources, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { PHASE_LABELS } from "../../src/status/job-metrics.js";
import { jobManifest } from "../fixtures.js";
import {
  createJob,
  getJob,
  podNames,
  setPodPhase,
  setServerAvailable,
  waitForJob,
  operatorWorldHooks,
  type JobObject,
} from "./harness.js";
import { eventBase } from "./progress-events.js";

const w = operatorWorldHooks();

type Series = Record<string, number>;

/** Unescapes a label value of the text format (\\, \", \n). */
const unescape = (v: string): string => v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

/**
 * The sfprompt_job_* samples of job `name` on /metrics, keyed by metric name and the labels other
 * than namespace and sfprompt_job, e.g. `sfprompt_job_phase{phase="Running"}`.
 */
async function scrape(name: string, namespace = "default"): Promise<Series> {
  const res = await fetch(`http://127.0.0.1:${w.operator.httpPort}/metrics`);
  assert.equal(res.status, 200);
  const out: Series = {};
  for (const line of (await res.text()).split("\n")) {
    const m = /^(sfprompt_job_\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k!, unescape(v!)]);
    const own = Object.fromEntries(labels);
    if (own.namespace !== namespace || own.sfprompt_job !== name) continue;
    const rest = labels.filter(([k]) => k !== "namespace" && k !== "sfprompt_job");
    const key = rest.length > 0 ? `${m[1]}{${rest.map(([k, v]) => `${k}="${v}"`).join(",")}}` : m[1]!;
    out[key] = Number(m[3]);
  }
  return out;
}

const phaseSeries = (phase: string | undefined): Series =>
  Object.fromEntries(PHASE_LABELS.map((p) => [`sfprompt_job_phase{phase="${p}"}`, p === phase ? 1 : 0]));

const clientSeries = (s: Status): Series =>
  Object.fromEntries(
    CLIENT_STATUS_STATES.map((st) => [
      `sfprompt_job_clients{state="${st}"}`,
      (s.clients ?? []).filter((c) => c.state === st).length,
    ]),
  );

/** Waits until job `name`'s series equal `expected(status)` of the job as the API server returns it. */
async function seriesFollowStatus(name: string, expected: (s: Status) => Series): Promise<Series> {
  let last: { got: Series; want: Series } | undefined;
  try {
    return await waitFor(
      async () => {
        const job = await getJob(w.world, name);
        const want = expected(job!.status as Status);
        const got = await scrape(name);
        last = { got, want };
        return JSON.stringify(sorted(got)) === JSON.stringify(sorted(want)) ? got : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, description: `${name}'s series to equal its status` },
    );
  } catch (err) {
    assert.deepEqual(last?.got, last?.want, `${name}'s series equal its status`);
    throw err;
  }
}

const sorted = (s: Series): [string, number][] => Object.entries(s).sort(([a], [b]) => a.localeCompare(b));

async function training(): Promise<JobObject> {
  await setServerAvailable(w.world, "train-server", 1);
  for (const i of [0, 1]) await setPodPhase(w.world, `train-client-${i}`, "Running", { node: "edge-a" });
  const job = jobToken("default", "train");
  await ensureJobResources(w.nc, job);
  const events: ProgressEvent[] = [
    { ...eventBase(job), type: "client.state", client: "client-0", state: "split-training", round: 2 },
    {
      ...eventBase(job),
      type: "round.finished",
      round: 1,
      loss: 1.25,
      accuracy: 0.5625,
      participants: ["client-0", "client-1"],
      samples: 100,
      bytes: {
        up: 3000,
        down: 1000,
        byKind: { activation: 2400, gradient: 1000, parameters: 600 },
        upByKind: { activation: 2000, gradient: 500, parameters: 500 },
        downByKind: { activation: 400, gradient: 500, parameters: 100 },
      },
      durationMs: 10,
    },
  ];
  for (const e of events) await publishEvent(w.nc, e);
  return waitForJob(w.world, "train", (j) => j.status?.round === 1 && !!j.status.communication, "round 1");
}

test("each job's series on /metrics equal its status as the API server returns it, while training and once it succeeded", async () => {
  await createJob(w.world, jobManifest("waiting", { clients: { count: 1 } }));
  await createJob(w.world, jobManifest("train", { clients: { count: 2 }, training: { rounds: 2 } }));
  await waitFor(async () => (await podNames(w.world, "train")).length === 2, {
    timeoutMs: 10_000,
    description: "2 client pods",
  });
  await waitForJob(w.world, "waiting", (j) => j.status?.phase === "Pending", "waiting Pending");
  await seriesFollowStatus("waiting", (s) => ({
    ...phaseSeries(s.phase),
    sfprompt_job_round: s.round!,
    sfprompt_job_rounds: s.rounds!,
    ...clientSeries(s),
  }));

  const r1 = await training();
  assert.equal(r1.status!.phase, "Running");
  const split = (s: Status, kind: "activations" | "gradients" | "parameters" | "control"): Series => ({
    [`sfprompt_job_bytes_by_kind{direction="up",kind="${kind}"}`]: s.communication![`${kind}Up`]!,
    [`sfprompt_job_bytes_by_kind{direction="down",kind="${kind}"}`]: s.communication![`${kind}Down`]!,
  });
  const running = await seriesFollowStatus("train", (s) => ({
    ...phaseSeries(s.phase),
    sfprompt_job_round: s.round!,
    sfprompt_job_rounds: s.rounds!,
    sfprompt_job_loss: s.metrics!.loss!,
    sfprompt_job_accuracy: s.metrics!.accuracy!,
    sfprompt_job_best_accuracy: s.metrics!.bestAccuracy!,
    sfprompt_job_best_round: s.metrics!.bestRound!,
    'sfprompt_job_bytes{direction="up"}': s.communication!.up!,
    'sfprompt_job_bytes{direction="down"}': s.communication!.down!,
    ...split(s, "activations"),
    ...split(s, "gradients"),
    ...split(s, "parameters"),
    ...split(s, "control"),
    ...clientSeries(s),
  }));
  // accuracy is the status's fraction (0.5625 published), not a percentage
  assert.equal(running.sfprompt_job_accuracy, (r1.status!.metrics as { accuracy: number }).accuracy);

  // job.finished carries totals without the kind split: the by-kind series go, the rest follow
  const job = jobToken("default", "train");
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "job.finished",
    rounds: 2,
    loss: 0.5,
    accuracy: 0.75,
    bytes: { up: 6000, down: 2000, byKind: {} },
  });
  await waitForJob(w.world, "train", (j) => j.status?.phase === "Succeeded", "Succeeded");
  const done = await seriesFollowStatus("train", (s) => ({
    ...phaseSeries(s.phase),
    sfprompt_job_round: s.round!,
    sfprompt_job_rounds: s.rounds!,
    sfprompt_job_loss: s.metrics!.loss!,
    sfprompt_job_accuracy: s.metrics!.accuracy!,
    sfprompt_job_best_accuracy: s.metrics!.bestAccuracy!,
    sfprompt_job_best_round: s.metrics!.bestRound!,
    'sfprompt_job_bytes{direction="up"}': s.communication!.up!,
    'sfprompt_job_bytes{direction="down"}': s.communication!.down!,
    ...clientSeries(s),
  }));
  assert.equal(done['sfprompt_job_phase{phase="Succeeded"}'], 1);
});

test("a deleted job's series are gone from /metrics, another job's stay", async () => {
  assert.ok(Object.keys(await scrape("train")).length > 0, "train has series before its deletion");
  await w.world.custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: "default",
    name: "train",
  });
  await waitFor(async () => (await getJob(w.world, "train")) === undefined, {
    timeoutMs: 15_000,
    description: "train deleted (its finalizer done)",
  });
  await waitFor(async () => Object.keys(await scrape("train")).length === 0, {
    timeoutMs: 10_000,
    intervalMs: 100,
    description: "train's series to be gone",
  });
  assert.equal((await scrape("waiting"))['sfprompt_job_phase{phase="Pending"}'], 1);
});
