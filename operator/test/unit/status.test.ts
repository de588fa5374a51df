import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Deployment } from "@kubernetes/client-node";
import type { Condition, SFPromptJob, Status } from "@sfprompt/api";
import { planClients } from "../../src/desired/restart-plan.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { computeStatus } from "../../src/status/compute-status.js";
import { upsertCondition } from "../../src/status/conditions.js";
import { decideLifecycle } from "../../src/status/lifecycle.js";
import { statusPatch } from "../../src/status/status-patch.js";
import { clientPod, job, type PodOptions, type SpecInput } from "../fixtures.js";

const NOW = new Date("2026-01-01T01:00:00.000Z");
const policy = { limit: 1, baseMs: 1000, maxMs: 1000 };
const available: V1Deployment = {
  spec: { replicas: 1, selector: {}, template: {} },
  status: { availableReplicas: 1 },
};

interface World {
  spec?: SpecInput;
  previous?: Status;
  pods?: PodOptions[];
  deployment?: V1Deployment;
  progress?: ProgressSnapshot;
  now?: Date;
}

function run(w: World): {
  status: ReturnType<typeof computeStatus>;
  requeueAfterMs?: number;
  expired: boolean;
} {
  const j: SFPromptJob = { ...job("demo", { clients: { count: 2 }, ...w.spec }), status: w.previous };
  const now = w.now ?? NOW;
  const plans = planClients(j.spec.clients.count, (w.pods ?? []).map(clientPod), policy, now.getTime());
  const lifecycle = decideLifecycle({ job: j, previous: w.previous, progress: w.progress, plans, now });
  const status = computeStatus({
    job: j,
    lifecycle,
    deployment: w.deployment,
    plans,
    progress: w.progress,
    now,
  });
  return {
    status,
    expired: lifecycle.expired,
    ...(lifecycle.requeueAfterMs !== undefined ? { requeueAfterMs: lifecycle.requeueAfterMs } : {}),
  };
}

const condition = (s: { conditions?: Condition[] }, type: string): Condition | undefined =>
  s.conditions?.find((c) => c.type === type);
const running = [
  { index: 0, phase: "Running" as const, node: "edge-a" },
  { index: 1, phase: "Running" as const, node: "edge-b" },
];
const completed: ProgressSnapshot = {
  ...emptySnapshot(),
  round: 3,
  outcome: { kind: "completed", round: 3 },
  sequence: 9,
};

const phaseCases: { name: string; world: World; phase: string; reason?: string }[] = [
  { name: "nothing runs yet: Pending", world: {}, phase: "Pending" },
  {
    name: "server available but clients pending: Pending",
    world: { deployment: available },
    phase: "Pending",
  },
  {
    name: "server available and clients running: Running",
    world: { deployment: available, pods: running },
    phase: "Running",
  },
  {
    name: "spec.suspend: Suspended",
    world: { spec: { suspend: true }, pods: running, deployment: available },
    phase: "Suspended",
  },
  {
    name: "a job.finished event: Succeeded",
    world: { deployment: available, pods: running, progress: completed },
    phase: "Succeeded",
    reason: "TrainingCompleted",
  },
  {
    name: "a job.failed event: Failed with its reason",
    world: {
      progress: {
        ...emptySnapshot(),
        outcome: { kind: "failed", reason: "QuorumNotReached", message: "2 of 3" },
      },
    },
    phase: "Failed",
    reason: "QuorumNotReached",
  },
  {
    name: "a job.failed with a reason the operator keeps for its own decisions: Failed TrainingFailed",
    world: {
      progress: {
        ...emptySnapshot(),
        outcome: { kind: "failed", reason: "DeadlineExceeded", message: "the server's own deadline" },
      },
    },
    phase: "Failed",
    reason: "TrainingFailed",
  },
  {
    name: "past activeDeadlineSeconds since start: Failed DeadlineExceeded",
    world: {
      spec: { activeDeadlineSeconds: 60 },
      previous: { phase: "Running", startTime: "2026-01-01T00:58:00.000Z" },
    },
    phase: "Failed",
    reason: "DeadlineExceeded",
  },
  {
    name: "more clients failed for good than the quorum allows: Failed ClientsFailed",
    world: {
      spec: { training: { quorum: { count: 2 } } },
      pods: [{ index: 0, attempt: 1, phase: "Failed", finishedAt: new Date(0) }, running[1]!],
    },
    phase: "Failed",
    reason: "ClientsFailed",
  },
  {
    name: "a finished job stays finished even when suspended later",
    world: {
      spec: { suspend: true },
      previous: {
        phase: "Succeeded",
        completionTime: "2026-01-01T00:59:00.000Z",
        conditions: [
          {
            type: "Succeeded",
            status: "True",
            reason: "TrainingCompleted",
            message: "x",
            lastTransitionTime: "2026-01-01T00:59:00.000Z",
          },
        ],
      },
    },
    phase: "Succeeded",
    reason: "TrainingCompleted",
  },
];

for (const c of phaseCases) {
  test(`phase: ${c.name}`, () => {
    const { status } = run(c.world);
    assert.equal(status.phase, c.phase);
    if (c.reason) assert.equal(condition(status, c.phase)?.reason, c.reason);
    const trues = status.conditions!.filter(
      (x) => ["Succeeded", "Failed", "Running", "Suspended"].includes(x.type) && x.status === "True",
    );
    assert.ok(trues.length <= 1, "at most one of Running/Suspended/Succeeded/Failed holds");
  });
}

test("status carries per-client phases and nodes, round/rounds and the progress metrics", () => {
  const progress: ProgressSnapshot = {
    ...emptySnapshot(),
    round: 2,
    loss: 0.5,
    accuracy: 0.8,
    bestAccuracy: 0.8,
    bestRound: 2,
    roundBytes: { 1: { up: 1000, down: 24, byKind: {} }, 2: { up: 1000, down: 24, byKind: {} } },
    clients: { 1: { lastRound: 2, state: "idle" } },
    lastCheckpoint: { round: 2, object: "checkpoints/2" },
    sequence: 5,
  };
  const { status } = run({
    spec: { training: { rounds: 5 } },
    pods: running,
    deployment: available,
    progress,
  });
  assert.equal(status.progress, "2/5");
  assert.deepEqual(status.clients, [
    { index: 0, phase: "Running", state: "running", restarts: 0, pod: "demo-client-0", node: "edge-a" },
    {
      index: 1,
      phase: "Running",
      state: "idle",
      restarts: 0,
      pod: "demo-client-1",
      node: "edge-b",
      lastRound: 2,
    },
  ]);
  assert.deepEqual(status.metrics, { loss: 0.5, accuracy: 0.8, bestAccuracy: 0.8, bestRound: 2 });
  assert.deepEqual(status.communication, { total: 2048, totalHuman: "2.0 KiB", up: 2000, down: 48 });
  assert.deepEqual(status.lastCheckpoint, { round: 2, object: "checkpoints/2" });
  assert.equal(status.startTime, NOW.toISOString());
});

test("round follows the progress while the job runs, and stays what it finished at once it has", () => {
  const fresh: ProgressSnapshot = { ...emptySnapshot(), round: 1, sequence: 1 };
  const succeeded: Condition = {
    type: "Succeeded",
    status: "True",
    reason: "TrainingCompleted",
    message: "",
    lastTransitionTime: NOW.toISOString(),
  };
  const cases: { name: string; previous: Status; progress?: ProgressSnapshot; round: number }[] = [
    { name: "a run started over at round 1", previous: { round: 7 }, progress: fresh, round: 1 },
    { name: "a new stream with no round yet", previous: { round: 7 }, progress: emptySnapshot(), round: 0 },
    { name: "the replay not caught up", previous: { round: 7 }, round: 7 },
    {
      name: "a finished job whose stream was lost",
      previous: { round: 3, rounds: 3, phase: "Succeeded", conditions: [succeeded] },
      progress: emptySnapshot(),
      round: 3,
    },
  ];
  for (const c of cases) {
    const { status } = run({ previous: c.previous, ...(c.progress ? { progress: c.progress } : {}) });
    assert.equal(status.round, c.round, c.name);
  }
});

test("the deadline is a known wait: the lifecycle asks to be reconciled when it runs out", () => {
  const { requeueAfterMs, status } = run({
    spec: { activeDeadlineSeconds: 120 },
    previous: { startTime: "2026-01-01T00:59:00.000Z" },
  });
  assert.equal(status.phase, "Pending");
  assert.equal(requeueAfterMs, 60_000);
});

test("suspending clears startTime, so the deadline counts from the resume", () => {
  const { status } = run({
    spec: { suspend: true, activeDeadlineSeconds: 1 },
    previous: { startTime: "2026-01-01T00:00:00.000Z" },
  });
  assert.equal(status.phase, "Suspended");
  assert.equal(status.startTime, undefined);
});

test("TTL after finishing: wait until completion + TTL, then expire", () => {
  const previous: Status = { phase: "Failed", completionTime: "2026-01-01T00:59:30.000Z" };
  const before = run({ spec: { ttlSecondsAfterFinished: 60 }, previous });
  assert.deepEqual([before.expired, before.requeueAfterMs], [false, 30_000]);
  const after = run({
    spec: { ttlSecondsAfterFinished: 60 },
    previous,
    now: new Date("2026-01-01T01:00:30.000Z"),
  });
  assert.equal(after.expired, true);
});

test("a finished job whose completionTime did not read counts its TTL from its Failed condition's time, not from now", () => {
  // the status as read: the completionTime the schema rejected is left out (ADR 0023, amendment 8)
  const previous: Status = {
    phase: "Failed",
    conditions: [
      {
        type: "Failed",
        status: "True",
        reason: "DeadlineExceeded",
        message: "the job ran longer than spec.activeDeadlineSeconds (1 s)",
        lastTransitionTime: "2026-01-01T00:59:30.000Z",
      },
    ],
  };
  const { status, requeueAfterMs } = run({ spec: { ttlSecondsAfterFinished: 60 }, previous });
  assert.equal(status.completionTime, "2026-01-01T00:59:30.000Z");
  assert.equal(requeueAfterMs, 30_000);
});

test("a client waiting out its restart backoff shows as Failed with reason ClientRestartBackoff", () => {
  const { status } = run({
    pods: [{ index: 0, phase: "Failed", finishedAt: new Date(NOW.getTime() - 100) }, running[1]!],
    deployment: available,
  });
  assert.equal(status.clients![0]!.phase, "Failed");
  assert.equal(condition(status, "ClientsReady")?.reason, "ClientRestartBackoff");
});

test("upserting a condition keeps lastTransitionTime unless the status flips", () => {
  const t0 = "2026-01-01T00:00:00.000Z";
  const t1 = "2026-01-01T00:05:00.000Z";
  let cs = upsertCondition([], { type: "Ready", status: "False", reason: "A", message: "a" }, t0);
  cs = upsertCondition(cs, { type: "Other", status: "True", reason: "B", message: "b" }, t0);
  cs = upsertCondition(cs, { type: "Ready", status: "False", reason: "C", message: "c" }, t1);
  assert.deepEqual(cs[0], {
    type: "Ready",
    status: "False",
    reason: "C",
    message: "c",
    lastTransitionTime: t0,
  });
  cs = upsertCondition(cs, { type: "Ready", status: "True", reason: "D", message: "d" }, t1, 3);
  assert.deepEqual(cs[0], {
    type: "Ready",
    status: "True",
    reason: "D",
    message: "d",
    lastTransitionTime: t1,
    observedGeneration: 3,
  });
  assert.equal(cs.length, 2, "upserted, not appended");
});

test("recomputing the status from the same world gives no patch; a change gives one with removed fields nulled", () => {
  const first = run({ deployment: available, pods: running }).status;
  const again = run({
    deployment: available,
    pods: running,
    previous: first as Status,
    now: new Date(NOW.getTime() + 5000),
  }).status;
  assert.equal(statusPatch(first, again), undefined);
  const suspended = run({ spec: { suspend: true }, previous: first as Status }).status;
  const patch = statusPatch(first, suspended)!;
  assert.equal(patch.phase, "Suspended");
  assert.equal(patch.startTime, null);
});

test("a 10000-client job whose clients all wait on one image: ClientsReady still says why, within a condition's message", () => {
  // the whole index lists (about 59000 characters each) went first, and the condition's 32768-character
  // cut took the reason away (ADR 0023 amendment 12)
  const count = 10_000;
  const pull = 'Back-off pulling image "registry.local/sfprompt-client:9.9"';
  const pods = Array.from({ length: count }, (_, index) => {
    const pod = clientPod({ index });
    pod.status!.containerStatuses = [
      {
        name: "client",
        image: "registry.local/sfprompt-client:9.9",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: "ImagePullBackOff", message: pull } },
      },
    ];
    return pod;
  });
  const j: SFPromptJob = job("demo", { clients: { count } });
  const plans = planClients(count, pods, policy, NOW.getTime());
  const lifecycle = decideLifecycle({ job: j, plans, now: NOW, previous: undefined, progress: undefined });
  const status = computeStatus({
    job: j,
    lifecycle,
    deployment: available,
    plans,
    progress: undefined,
    now: NOW,
  });
  const message = condition(status, "ClientsReady")!.message;
  assert.ok(message.length <= 32768, `${message.length} characters`);
  assert.ok(
    message.startsWith(`0 of ${count} client pods running; not running: 0, 1, 2, `),
    message.slice(0, 200),
  );
  assert.match(
    message,
    / and \d+ more; why: clients 0, 1, .* and \d+ more: ImagePullBackOff: Back-off pulling image /,
  );
  assert.ok(message.endsWith(`ImagePullBackOff: ${pull}`), message.slice(-300));
});
