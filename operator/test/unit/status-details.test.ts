// Tables for the finer parts of the status: bytes by kind and direction, what each client is doing
// (from its pod and its reports), and the server's execution provider with the CpuFallback condition.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { CLIENT_STATUS_STATES, type ServerStatus } from "@sfprompt/api";
import { CLIENT_STATES, type EventBytes } from "@sfprompt/protocol";
import type { ClientPlan } from "../../src/desired/restart-plan.js";
import { emptySnapshot, type ClientProgress, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { clientState, podReason } from "../../src/status/client-state.js";
import { communicationOf } from "../../src/status/communication.js";
import { cpuFallbackCondition, serverStatusOf } from "../../src/status/server-status.js";
import { clientPod, job } from "../fixtures.js";

const split = (upA: number, downA: number, upP: number, downP: number, control = 0): EventBytes => ({
  up: upA + upP + control,
  down: downA + downP + control,
  byKind: { activation: upA + downA, parameters: upP + downP, control: 2 * control },
  upByKind: { activation: upA, parameters: upP, control },
  downByKind: { activation: downA, parameters: downP, control },
});
const snapshot = (o: Partial<ProgressSnapshot>): ProgressSnapshot => ({ ...emptySnapshot(), ...o });

const communicationCases: {
  name: string;
  progress: ProgressSnapshot | undefined;
  expect: Record<string, number | string> | undefined;
}[] = [
  { name: "no progress yet: no communication", progress: undefined, expect: undefined },
  { name: "no round finished yet: no communication", progress: snapshot({}), expect: undefined },
  {
    name: "rounds with the split: totals, directions and every kind in each direction",
    progress: snapshot({ roundBytes: { 1: split(100, 200, 10, 20, 1), 2: split(100, 200, 10, 20, 1) } }),
    expect: {
      total: 664,
      totalHuman: "664 B",
      up: 222,
      down: 442,
      activationsUp: 200,
      activationsDown: 400,
      gradientsUp: 0,
      gradientsDown: 0,
      parametersUp: 20,
      parametersDown: 40,
      controlUp: 2,
      controlDown: 2,
    },
  },
  {
    name: "a round without the split (an older server): totals and directions only",
    progress: snapshot({
      roundBytes: { 1: split(100, 200, 10, 20), 2: { up: 2048, down: 0, byKind: { activation: 2048 } } },
    }),
    expect: { total: 2378, totalHuman: "2.3 KiB", up: 2158, down: 220 },
  },
  {
    name: "job.finished's totals supersede the rounds'",
    progress: snapshot({ roundBytes: { 1: split(1, 1, 1, 1) }, jobBytes: split(3000, 3000, 30, 30) }),
    expect: {
      total: 6060,
      totalHuman: "5.9 KiB",
      up: 3030,
      down: 3030,
      activationsUp: 3000,
      activationsDown: 3000,
      gradientsUp: 0,
      gradientsDown: 0,
      parametersUp: 30,
      parametersDown: 30,
      controlUp: 0,
      controlDown: 0,
    },
  },
];

for (const c of communicationCases) {
  test(`communication: ${c.name}`, () => {
    assert.deepEqual(communicationOf(c.progress), c.expect);
  });
}

test("every state a client can report over NATS is a state the status can show", () => {
  for (const s of CLIENT_STATES) assert.ok((CLIENT_STATUS_STATES as readonly string[]).includes(s), s);
});

const POD_START = "2026-01-01T00:00:00Z";
const running = (extra: Partial<ClientPlan> = {}): ClientPlan => ({
  index: 0,
  attempt: 0,
  state: "running",
  pod: clientPod({ index: 0, phase: "Running" }),
  ...extra,
});
const unschedulable: V1Pod = {
  ...clientPod({ index: 0 }),
  status: {
    phase: "Pending",
    conditions: [
      {
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
      },
    ],
  },
};

const stateCases: {
  name: string;
  plan: ClientPlan;
  reported?: ClientProgress;
  state: string;
  reason?: string;
}[] = [
  { name: "no pod yet: pending", plan: { index: 0, attempt: 0, state: "running" }, state: "pending" },
  {
    name: "a pod the scheduler cannot place: pending with the scheduler's message",
    plan: running({ pod: unschedulable }),
    state: "pending",
    reason: "Unschedulable: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
  },
  { name: "a running pod that has not reported: running", plan: running(), state: "running" },
  {
    name: "a running pod's report since it started: what it reported",
    plan: running(),
    reported: { state: "split-training", stateAt: "2026-01-01T00:05:00Z" },
    state: "split-training",
  },
  {
    name: "a report from before the pod was created (an earlier pod's): running",
    plan: running(),
    reported: { state: "failed", reason: "boom", stateAt: "2025-12-31T23:00:00Z" },
    state: "running",
  },
  {
    name: "the server lost it while its pod runs: lost, with the reason",
    plan: running(),
    reported: { state: "lost", reason: "no report for 60 s", stateAt: POD_START },
    state: "lost",
    reason: "no report for 60 s",
  },
  {
    name: "a failed pod: failed, with the container's exit",
    plan: running({ pod: clientPod({ index: 0, phase: "Failed", finishedAt: new Date(POD_START) }) }),
    state: "failed",
    reason: "Error (exit code 1)",
  },
  {
    name: "waiting for its restart backoff: failed",
    plan: {
      index: 0,
      attempt: 1,
      state: "waiting",
      waitMs: 5000,
      pod: clientPod({ index: 0, attempt: 1, phase: "Failed", finishedAt: new Date(POD_START) }),
    },
    state: "failed",
    reason: "Error (exit code 1)",
  },
  {
    name: "a succeeded pod: done",
    plan: running({ pod: clientPod({ index: 0, phase: "Succeeded" }) }),
    state: "done",
  },
];

for (const c of stateCases) {
  test(`client state: ${c.name}`, () => {
    const got = clientState(c.plan, c.reported);
    assert.deepEqual(got, { state: c.state, ...(c.reason !== undefined ? { reason: c.reason } : {}) });
  });
}

test("podReason says nothing for a pod that runs normally", () => {
  assert.equal(podReason(clientPod({ index: 0, phase: "Running" })), undefined);
});

const ready = (actual: "cuda" | "cpu" | "none", fallbackReason?: string): ProgressSnapshot =>
  snapshot({
    server: {
      instance: "demo-server-7d9-abc",
      requested: "cuda",
      actual,
      ...(fallbackReason ? { fallbackReason } : {}),
      at: POD_START,
    },
  });

const providerCases: {
  name: string;
  provider: "cuda" | "cpu";
  progress: ProgressSnapshot | undefined;
  status: string;
  reason: string;
  message?: RegExp;
  gpus?: number;
}[] = [
  {
    name: "nothing reported yet: Unknown",
    provider: "cuda",
    progress: snapshot({}),
    status: "Unknown",
    reason: "NotReported",
  },
  {
    name: "CUDA asked for, CPU in use: True, with ORT's reason and what to do",
    provider: "cuda",
    progress: ready("cpu", "libonnxruntime_providers_shared.so: cannot open shared object file"),
    status: "True",
    reason: "CudaUnavailable",
    message:
      /demo-server-7d9-abc asked for CUDA but runs the body on CPU: libonnxruntime.*\. Give it a GPU \(spec\.server\.gpus.*jobImages\.serverGpu/,
    gpus: 1,
  },
  {
    name: "CUDA asked for with no GPU requested: True, and the missing GPU request said first",
    provider: "cuda",
    progress: ready("cpu", "no CUDA provider"),
    status: "True",
    reason: "CudaUnavailable",
    message: /runs the body on CPU: no CUDA provider\. The job requests no GPU \(spec\.server\.gpus is 0\)/,
    gpus: 0,
  },
  {
    name: "CUDA asked for and used: False",
    provider: "cuda",
    progress: ready("cuda"),
    status: "False",
    reason: "AsRequested",
  },
  {
    name: "CPU asked for and used: False",
    provider: "cpu",
    progress: snapshot({ server: { instance: "s", requested: "cpu", actual: "cpu", at: POD_START } }),
    status: "False",
    reason: "AsRequested",
  },
  {
    name: "a method with no model on the server: False",
    provider: "cuda",
    progress: ready("none"),
    status: "False",
    reason: "AsRequested",
    message: /no model on the server/,
  },
];

for (const c of providerCases) {
  test(`CpuFallback: ${c.name}`, () => {
    const j = job("demo", { server: { executionProvider: c.provider, gpus: c.gpus ?? 0 } });
    const server = serverStatusOf(j, undefined, c.progress);
    assert.equal(server.requestedExecutionProvider, c.provider);
    const cond = cpuFallbackCondition(server, j.spec.server.gpus);
    assert.deepEqual([cond.type, cond.status, cond.reason], ["CpuFallback", c.status, c.reason]);
    if (c.message) assert.match(cond.message, c.message);
  });
}

test("without a caught-up progress replay the server's last written report stands", () => {
  const previous: ServerStatus = {
    availableReplicas: 1,
    requestedExecutionProvider: "cuda",
    executionProvider: "cpu",
    fallbackReason: "no GPU",
    instance: "s-1",
    readyTime: POD_START,
  };
  const j = { ...job("demo"), status: { server: previous } };
  const available = { status: { availableReplicas: 2 } };
  assert.deepEqual(serverStatusOf(j, available, undefined), { ...previous, availableReplicas: 2 });
});
