// The per-job gauges of /metrics, from stored statuses as the API's schema reads them: which series a
// job gets at each stage (none of the status's metrics yet, training, finished, failed), and how the
// registry renders several jobs' series under one HELP/TYPE per family.
import { test } from "node:test";
import assert from "node:assert/strict";
import { API_VERSION, KIND, StatusSchema, type Status } from "@sfprompt/api";
import { OperatorMetrics, type NamedSample } from "../../src/metrics.js";
import { JOB_METRIC_FAMILIES, jobSamples, jobsByPhase, jobsSamples } from "../../src/status/job-metrics.js";

/** A status as the API server would return it, read through the API's schema (throws if it is not one). */
const status = (s: unknown): Status => StatusSchema.parse(s);

/** Samples as exposition lines without the namespace and sfprompt_job labels, in the order given. */
const lines = (samples: NamedSample[]): string[] =>
  samples.map(({ name, labels, value }) => {
    const { namespace: _n, sfprompt_job: _j, ...rest } = labels;
    const l = Object.entries(rest).map(([k, v]) => `${k}=${v}`);
    return `${name}${l.length > 0 ? `{${l.join(",")}}` : ""} ${value}`;
  });

/** The 0/1 phase series of a job in `phase` (none: all 0; Unknown: a phase the API does not know). */
const phases = (phase?: string): string[] =>
  ["Pending", "Running", "Suspended", "Succeeded", "Failed", "Unknown"].map(
    (p) => `sfprompt_job_phase{phase=${p}} ${p === phase ? 1 : 0}`,
  );

/** The client-count series with `counts` per state, 0 for the others. */
const clients = (counts: Record<string, number>): string[] =>
  [
    "pending",
    "running",
    "connected",
    "local-update",
    "pruning",
    "split-training",
    "uploading",
    "idle",
    "lost",
    "failed",
    "done",
  ].map((s) => `sfprompt_job_clients{state=${s}} ${counts[s] ?? 0}`);

const client = (index: number, state: string, phase = "Running"): object => ({
  index,
  phase,
  state,
  restarts: 0,
  pod: `demo-client-${index}`,
});

const cases: { name: string; status: Status | undefined; series: string[] }[] = [
  {
    name: "a job the operator has not written a status for has its phase series, all 0, and nothing else",
    status: undefined,
    series: phases(),
  },
  {
    name: "a running job with no round finished yet has no loss, accuracy or bytes series",
    status: status({
      phase: "Running",
      round: 0,
      rounds: 10,
      progress: "0/10",
      clients: [client(0, "connected"), client(1, "running"), client(2, "pending", "Pending")],
    }),
    series: [
      ...phases("Running"),
      "sfprompt_job_round 0",
      "sfprompt_job_rounds 10",
      ...clients({ connected: 1, running: 1, pending: 1 }),
    ],
  },
  {
    name: "a training job shows its loss, accuracy as a fraction, and bytes by direction and by kind",
    status: status({
      phase: "Running",
      round: 3,
      rounds: 10,
      metrics: { loss: 0.8125, accuracy: 0.5625, bestAccuracy: 0.625, bestRound: 2 },
      communication: {
        total: 4000,
        totalHuman: "3.9 KiB",
        up: 3000,
        down: 1000,
        activationsUp: 2000,
        activationsDown: 400,
        gradientsUp: 500,
        gradientsDown: 500,
        parametersUp: 500,
        parametersDown: 100,
        controlUp: 0,
        controlDown: 0,
      },
      clients: [client(0, "split-training"), client(1, "split-training")],
    }),
    series: [
      ...phases("Running"),
      "sfprompt_job_round 3",
      "sfprompt_job_rounds 10",
      "sfprompt_job_loss 0.8125",
      "sfprompt_job_accuracy 0.5625",
      "sfprompt_job_best_accuracy 0.625",
      "sfprompt_job_best_round 2",
      "sfprompt_job_bytes{direction=up} 3000",
      "sfprompt_job_bytes{direction=down} 1000",
      "sfprompt_job_bytes_by_kind{direction=up,kind=activations} 2000",
      "sfprompt_job_bytes_by_kind{direction=down,kind=activations} 400",
      "sfprompt_job_bytes_by_kind{direction=up,kind=gradients} 500",
      "sfprompt_job_bytes_by_kind{direction=down,kind=gradients} 500",
      "sfprompt_job_bytes_by_kind{direction=up,kind=parameters} 500",
      "sfprompt_job_bytes_by_kind{direction=down,kind=parameters} 100",
      "sfprompt_job_bytes_by_kind{direction=up,kind=control} 0",
      "sfprompt_job_bytes_by_kind{direction=down,kind=control} 0",
      ...clients({ "split-training": 2 }),
    ],
  },
  {
    name: "a finished job keeps its last round, metrics and bytes, with Succeeded 1 and its clients done",
    status: status({
      phase: "Succeeded",
      round: 2,
      rounds: 2,
      metrics: { loss: 0.5, accuracy: 0.75, bestAccuracy: 0.75, bestRound: 2 },
      communication: { total: 8000, totalHuman: "7.8 KiB", up: 6000, down: 2000 },
      clients: [client(0, "done", "Succeeded"), client(1, "done", "Unknown")],
      completionTime: "2026-11-27T12:00:00Z",
    }),
    series: [
      ...phases("Succeeded"),
      "sfprompt_job_round 2",
      "sfprompt_job_rounds 2",
      "sfprompt_job_loss 0.5",
      "sfprompt_job_accuracy 0.75",
      "sfprompt_job_best_accuracy 0.75",
      "sfprompt_job_best_round 2",
      "sfprompt_job_bytes{direction=up} 6000",
      "sfprompt_job_bytes{direction=down} 2000",
      ...clients({ done: 2 }),
    ],
  },
  {
    name: "a failed job that never evaluated has Failed 1, its loss, and its failed and lost clients",
    status: status({
      phase: "Failed",
      round: 1,
      rounds: 5,
      metrics: { loss: 2.25 },
      communication: { total: 200, totalHuman: "200 B", up: 100, down: 100 },
      clients: [
        { ...client(0, "failed", "Failed"), reason: "OOMKilled (exit code 137)", restarts: 2 },
        client(1, "lost"),
      ],
    }),
    series: [
      ...phases("Failed"),
      "sfprompt_job_round 1",
      "sfprompt_job_rounds 5",
      "sfprompt_job_loss 2.25",
      "sfprompt_job_bytes{direction=up} 100",
      "sfprompt_job_bytes{direction=down} 100",
      ...clients({ failed: 1, lost: 1 }),
    ],
  },
];

for (const c of cases)
  test(c.name, () => {
    const samples = jobSamples({
      namespace: "team-a",
      name: "demo.v2",
      ...(c.status ? { status: c.status } : {}),
    });
    assert.deepEqual(lines(samples), c.series);
    for (const s of samples) {
      assert.deepEqual([s.labels.namespace, s.labels.sfprompt_job], ["team-a", "demo.v2"], s.name);
      assert.ok(
        JOB_METRIC_FAMILIES.some((f) => f.name === s.name),
        `${s.name} is a declared family`,
      );
    }
  });

const raw = (
  name: string,
  st: unknown,
): { apiVersion: string; kind: string; metadata: object; status: unknown } => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name, namespace: "default" },
  status: st,
});

test("jobs from the cache each get their series; a status that is not the API's gives the series of the fields that read, its phase among them, and its issues told", () => {
  const told: [string | undefined, unknown][] = [];
  const samples = jobsSamples(
    [
      raw("a", { phase: "Running", round: 1, rounds: 3 }),
      raw("b", { phase: "Running", round: 2, metrics: { accuracy: 57 } }), // a percentage: not the API's status
    ],
    (job, issues) => told.push([job.metadata?.name, issues]),
  );
  assert.deepEqual(lines(samples.filter((s) => s.labels.sfprompt_job === "a")), [
    ...phases("Running"),
    "sfprompt_job_round 1",
    "sfprompt_job_rounds 3",
  ]);
  // The phase kubectl get shows and the reconciler keeps (ADR 0023, amendment 6); no metrics series.
  assert.deepEqual(lines(samples.filter((s) => s.labels.sfprompt_job === "b")), [
    ...phases("Running"),
    "sfprompt_job_round 2",
  ]);
  assert.deepEqual(told, [
    ["b", [{ path: "status.metrics.accuracy", message: "Too big: expected number to be <=1" }]],
  ]);
});

test("a value that does not read takes its own series away, not those of the fields beside it", () => {
  // a best round past 2^53, stored under the older CRD (ADR 0023, amendment 8)
  const samples = jobsSamples([
    raw("c", {
      phase: "Running",
      metrics: { loss: 0.5, accuracy: 0.75, bestAccuracy: 0.75, bestRound: 2 ** 53 },
    }),
  ]);
  assert.deepEqual(lines(samples), [
    ...phases("Running"),
    "sfprompt_job_loss 0.5",
    "sfprompt_job_accuracy 0.75",
    "sfprompt_job_best_accuracy 0.75",
  ]);
});

const phaseCases: { name: string; status: unknown; phase: string | undefined }[] = [
  { name: "a status that reads", status: { phase: "Failed", round: 1 }, phase: "Failed" },
  { name: "no status yet", status: undefined, phase: undefined },
  {
    name: "a status that does not read elsewhere keeps its phase",
    status: { phase: "Succeeded", completionTime: "2026-11-28t05:00:00z" },
    phase: "Succeeded",
  },
  {
    name: "a phase the API does not know (another operator version's) is Unknown",
    status: { phase: "Queued", round: 0 },
    phase: "Unknown",
  },
  {
    name: "an unreadable status without a phase has none",
    status: { completionTime: "2026-11-28t05:00:00z" },
    phase: undefined,
  },
];

for (const c of phaseCases)
  test(`the phase counted and the phase series agree: ${c.name}`, () => {
    const jobs = [raw("x", c.status)];
    const ones = jobsSamples(jobs)
      .filter((s) => s.name === "sfprompt_job_phase" && s.value === 1)
      .map((s) => s.labels.phase);
    assert.deepEqual(ones, c.phase === undefined ? [] : [c.phase]);
    const counts = Object.fromEntries(jobsByPhase(jobs).map((s) => [s.labels.phase, s.value]));
    assert.deepEqual(counts, {
      Pending: 0,
      Running: 0,
      Suspended: 0,
      Succeeded: 0,
      Failed: 0,
      Unknown: 0,
      ...(c.phase === undefined ? {} : { [c.phase]: 1 }),
    });
  });

test("/metrics renders each job family once, with every job's series under it, labels escaped", () => {
  const metrics = new OperatorMetrics();
  metrics.addGaugeFamilies({
    families: JOB_METRIC_FAMILIES,
    read: () => [
      ...jobSamples({ namespace: "ns", name: "one", status: status({ phase: "Running", round: 1 }) }),
      ...jobSamples({ namespace: 'odd"ns\\', name: "two", status: status({ phase: "Pending", round: 0 }) }),
    ],
  });
  const text = metrics.render();
  for (const f of JOB_METRIC_FAMILIES) {
    assert.equal(text.split(`# HELP ${f.name} `).length, 2, `one HELP for ${f.name}`);
    assert.equal(text.split(`# TYPE ${f.name} gauge\n`).length, 2, `one TYPE for ${f.name}`);
  }
  const roundBlock = text.slice(
    text.indexOf("# TYPE sfprompt_job_round gauge"),
    text.indexOf("# HELP sfprompt_job_rounds"),
  );
  assert.deepEqual(roundBlock.trim().split("\n").slice(1), [
    'sfprompt_job_round{namespace="ns",sfprompt_job="one"} 1',
    'sfprompt_job_round{namespace="odd\\"ns\\\\",sfprompt_job="two"} 0',
  ]);
});
