// What `kubectl get sfpromptjobs` shows of a job whose stored status does not read, when the operator
// starts on it (an upgrade: the new leader's first reconcile comes before its replay of the job's
// event stream), on a real kube-apiserver and nats-server: a rejected field that only the stream
// gives back (round, metrics, bytes, checkpoint) is left as stored until the replay is in, so the
// ROUND column never reads 0/N for a job that trained (ADR 0023, amendment 7).
import assert from "node:assert/strict";
import { test } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { StatusSchema, jobToken } from "@sfprompt/api";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import { ensureJobResources, eventStreamName, publishEvent } from "@sfprompt/protocol";
import { jobManifest } from "../fixtures.js";
import { patchStatusUnderOlderCrd } from "../status-under-older-crd.js";
import { eventBase, roundFinished } from "./progress-events.js";
import {
  createJob,
  getJob,
  operatorWorldHooks,
  runOperator,
  testConfig,
  waitForJob,
  type JobObject,
} from "./harness.js";

const w = operatorWorldHooks();

/** `kubectl get sfpromptjobs NAME`: its columns by header (PHASE, ROUND, ACCURACY, BYTES, …). */
async function columns(name: string): Promise<Record<string, string>> {
  const out = (await kubectl(["get", "sfpromptjobs", name], w.world.cp.kubeconfigPath)).stdout;
  const [header, row] = out.trimEnd().split("\n");
  const starts = [...header!.matchAll(/\S+/g)].map((m) => [m[0], m.index] as const);
  return Object.fromEntries(
    starts.map(([h, at], i) => [h, row!.slice(at, starts[i + 1]?.[1] ?? row!.length).trim()]),
  );
}

const shown = async (name: string): Promise<string[]> => {
  const c = await columns(name);
  return [c.PHASE!, c.ROUND!, c.ACCURACY!, c.BYTES!];
};

const reads = (j: JobObject): boolean => StatusSchema.safeParse(j.status).success;

/** Stops the operator, stores `status` under the older CRD, and starts a new one: the patched version. */
async function underNewOperator(name: string, status: Record<string, unknown>): Promise<string> {
  await w.operator.stop();
  const version = await patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name },
    status,
  );
  w.operator = await runOperator(w.world, testConfig(w.world));
  return version;
}

test("a succeeded job whose round does not read keeps 2/2 when an operator starts on it, and reads again from its stream", async () => {
  await createJob(w.world, jobManifest("done", { clients: { count: 1 }, training: { rounds: 2 } }));
  await waitForJob(w.world, "done", (j) => j.status?.phase === "Pending", "Pending");
  const job = jobToken("default", "done");
  await ensureJobResources(w.nc, job);
  for (const r of [1, 2]) await publishEvent(w.nc, roundFinished(job, r));
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "job.finished",
    rounds: 2,
    loss: 0.5,
    accuracy: 0.5,
    bytes: { up: 200, down: 200, byKind: {} },
  });
  const done = await waitForJob(w.world, "done", (j) => j.status?.phase === "Succeeded", "Succeeded");
  const before = await shown("done");
  assert.deepEqual(before, ["Succeeded", "2/2", "0.5", "400 B"]);

  const version = await underNewOperator("done", { round: 2 ** 53 });
  // every status the API server holds until the new operator's write made it read again
  const seen: string[] = [];
  const fixed = await waitFor(
    async () => {
      const j = (await getJob(w.world, "done"))!;
      seen.push(`${String(j.status?.round)} ${String(j.status?.progress)}`);
      return reads(j) && j.metadata!.resourceVersion !== version ? j : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 25, description: "the status rewritten so that it reads" },
  );
  assert.equal(fixed.status!.round, 2);
  assert.ok(
    seen.every((s) => s === `${2 ** 53} 2/2` || s === "2 2/2"),
    `no other round or progress was written: ${[...new Set(seen)].join(", ")}`,
  );
  assert.deepEqual(await shown("done"), before);
  assert.deepEqual(fixed.status!.metrics, done.status!.metrics);
});

test("a training job whose round does not read, with its stream lost, keeps its round column while the operator has no events, then follows the new stream", async () => {
  await createJob(w.world, jobManifest("lost", { clients: { count: 1 }, training: { rounds: 3 } }));
  await waitForJob(w.world, "lost", (j) => j.status?.phase === "Pending", "Pending");
  const job = jobToken("default", "lost");
  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, roundFinished(job, 1));
  await waitForJob(w.world, "lost", (j) => j.status?.round === 1, "round 1");
  assert.deepEqual(await shown("lost"), ["Pending", "1/3", "0.5", "200 B"]);

  // NATS without persistence restarted: the stream is gone until the job's server makes it again
  await (await jetstreamManager(w.nc)).streams.delete(eventStreamName(job));
  // with a startTime that does not read either: the new operator's write of it shows that it wrote
  await underNewOperator("lost", { round: 2 ** 53, startTime: "2026-11-28t05:00:00z" });
  await waitForJob(
    w.world,
    "lost",
    (j) =>
      j.status?.startTime !== undefined && StatusSchema.shape.startTime.safeParse(j.status.startTime).success,
    "the new operator's write of startTime",
  );
  // nothing to rebuild the round from: the column says what the job had, not 0/3
  assert.deepEqual(await shown("lost"), ["Pending", "1/3", "0.5", "200 B"]);
  assert.equal((await getJob(w.world, "lost"))!.status!.round, 2 ** 53, "the round is left as stored");

  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, roundFinished(job, 2));
  const fixed = await waitForJob(w.world, "lost", (j) => reads(j) && j.status?.round === 2, "round 2, read");
  assert.equal(fixed.status!.progress, "2/3");
  assert.deepEqual(await shown("lost"), ["Pending", "2/3", "0.5", "200 B"]);
});

test("a succeeded job whose best round does not read, with its stream lost, reads again with the other metrics as they were", async () => {
  await createJob(w.world, jobManifest("best", { clients: { count: 1 }, training: { rounds: 2 } }));
  await waitForJob(w.world, "best", (j) => j.status?.phase === "Pending", "Pending");
  const job = jobToken("default", "best");
  await ensureJobResources(w.nc, job);
  for (const r of [1, 2]) await publishEvent(w.nc, roundFinished(job, r));
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "job.finished",
    rounds: 2,
    loss: 0.5,
    accuracy: 0.5,
    bytes: { up: 200, down: 200, byKind: {} },
  });
  const done = await waitForJob(w.world, "best", (j) => j.status?.phase === "Succeeded", "Succeeded");
  const { bestRound, ...others } = done.status!.metrics as Record<string, unknown>;
  assert.equal(bestRound, 1);
  assert.equal(others.bestAccuracy, 0.5);
  const before = await shown("best");

  // NATS without persistence restarted after the job finished: nothing will replay its rounds
  await (await jetstreamManager(w.nc)).streams.delete(eventStreamName(job));
  const version = await underNewOperator("best", { metrics: { bestRound: 2 ** 53 } });
  const fixed = await waitForJob(
    w.world,
    "best",
    (j) => reads(j) && j.metadata!.resourceVersion !== version,
    "the status rewritten so that it reads",
  );
  assert.deepEqual(fixed.status!.metrics, others, "the metrics that read are kept, the best round left out");
  assert.equal(fixed.status!.round, 2);
  assert.deepEqual(fixed.status!.communication, done.status!.communication);
  assert.deepEqual(await shown("best"), before);
});
