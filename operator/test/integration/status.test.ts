import { test } from "node:test";
import assert from "node:assert/strict";
import { jobToken } from "@sfprompt/api";
import { ensureJobResources, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import {
  createJob,
  getJob,
  podNames,
  runOperator,
  setPodPhase,
  setServerAvailable,
  testConfig,
  waitForJob,
  condition,
  operatorWorldHooks,
} from "./harness.js";

const w = operatorWorldHooks();

test("status follows the pods' phases and the progress events from NATS, then succeeds", async () => {
  await createJob(w.world, jobManifest("train", { clients: { count: 2 }, training: { rounds: 2 } }));
  await waitFor(async () => (await podNames(w.world, "train")).length === 2, {
    timeoutMs: 10_000,
    description: "2 client pods",
  });
  await waitForJob(w.world, "train", (j) => j.status?.phase === "Pending", "Pending");

  await setServerAvailable(w.world, "train-server", 1);
  await setPodPhase(w.world, "train-client-0", "Running", { node: "edge-a" });
  await setPodPhase(w.world, "train-client-1", "Running", { node: "edge-b" });
  const running = await waitForJob(
    w.world,
    "train",
    (j) => j.status?.phase === "Running" && condition(j, "ClientsReady")?.status === "True",
    "Running with both clients",
  );
  assert.deepEqual(running.status!.clients, [
    { index: 0, phase: "Running", state: "running", restarts: 0, pod: "train-client-0", node: "edge-a" },
    { index: 1, phase: "Running", state: "running", restarts: 0, pod: "train-client-1", node: "edge-b" },
  ]);
  assert.deepEqual(running.status!.server, { availableReplicas: 1, requestedExecutionProvider: "cuda" });
  assert.equal(condition(running, "CpuFallback")?.status, "Unknown");
  assert.equal(condition(running, "ServerReady")?.status, "True");
  assert.equal(condition(running, "ClientsReady")?.status, "True");

  const job = jobToken("default", "train");
  await ensureJobResources(w.nc, job);
  const base = { v: 1 as const, job, at: new Date().toISOString() };
  const events: ProgressEvent[] = [
    {
      ...base,
      type: "server.ready",
      instance: "train-server-5d8f-x2x",
      executionProvider: { requested: "cuda", actual: "cpu" },
      fallbackReason: "libcudart.so.12: cannot open shared object file",
    },
    { ...base, type: "client.state", client: "client-0", state: "split-training", round: 1 },
    {
      ...base,
      type: "round.finished",
      round: 1,
      loss: 1.25,
      accuracy: 0.5,
      participants: ["client-0", "client-1"],
      samples: 100,
      contributions: [
        { client: "client-0", samples: 120, kept: 60 },
        { client: "client-1", samples: 80, kept: 40 },
      ],
      bytes: {
        up: 3000,
        down: 1000,
        byKind: { activation: 2400, gradient: 1000, parameters: 600 },
        upByKind: { activation: 2000, gradient: 500, parameters: 500 },
        downByKind: { activation: 400, gradient: 500, parameters: 100 },
      },
      durationMs: 10,
    },
    {
      ...base,
      type: "checkpoint.written",
      round: 1,
      bucket: `sfp-${job}-artifacts`,
      object: "checkpoints/round-1",
      size: 10,
    },
  ];
  for (const e of events) await publishEvent(w.nc, e);
  const r1 = await waitForJob(
    w.world,
    "train",
    (j) => j.status?.round === 1 && !!j.status.lastCheckpoint,
    "round 1 and its checkpoint in status",
  );
  assert.equal(r1.status!.progress, "1/2");
  assert.deepEqual(r1.status!.metrics, { loss: 1.25, accuracy: 0.5, bestAccuracy: 0.5, bestRound: 1 });
  assert.deepEqual(r1.status!.communication, {
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
  });
  assert.deepEqual(r1.status!.lastCheckpoint, { round: 1, object: "checkpoints/round-1" });
  const clients = r1.status!.clients as {
    state?: string;
    lastRound?: number;
    samples?: number;
    kept?: number;
  }[];
  assert.deepEqual(
    clients.map((c) => [c.state, c.lastRound, c.samples, c.kept]),
    [
      ["split-training", 1, 120, 60],
      ["running", 1, 80, 40],
    ],
  );
  assert.deepEqual(r1.status!.server, {
    availableReplicas: 1,
    requestedExecutionProvider: "cuda",
    executionProvider: "cpu",
    fallbackReason: "libcudart.so.12: cannot open shared object file",
    instance: "train-server-5d8f-x2x",
    readyTime: base.at,
  });
  const fallback = r1.status!.conditions!.find((c) => c.type === "CpuFallback")!;
  assert.deepEqual([fallback.status, fallback.reason], ["True", "CudaUnavailable"]);
  assert.match(fallback.message, /asked for CUDA but runs the body on CPU: libcudart/);

  // A new w.operator rebuilds the same progress by replaying the stream: the status does not move.
  const rv = r1.metadata!.resourceVersion;
  await w.operator.stop();
  w.operator = await runOperator(w.world, testConfig(w.world));
  await waitFor(() => w.operator.metrics.reconciles.get({ result: "success" }) >= 2, {
    timeoutMs: 10_000,
    description: "the new w.operator reconciles",
  });
  await new Promise((r) => setTimeout(r, 1000));
  const same = await getJob(w.world, "train");
  assert.equal(same!.metadata!.resourceVersion, rv, "no status write after the restart");
  assert.equal(w.operator.metrics.statusWrites.get(), 0);

  await publishEvent(w.nc, {
    ...base,
    type: "job.finished",
    rounds: 2,
    loss: 0.5,
    accuracy: 0.75,
    bytes: { up: 6000, down: 2000, byKind: {} },
  });
  const done = await waitForJob(w.world, "train", (j) => j.status?.phase === "Succeeded", "Succeeded");
  assert.equal(condition(done, "Succeeded")?.reason, "TrainingCompleted");
  assert.equal(done.status!.progress, "2/2");
  assert.ok(done.status!.completionTime);
  // What a user sees with kubectl get: the CRD's printer columns over this status.
  const table = await kubectl(["get", "sfpj", "train", "--no-headers"], w.world.cp.kubeconfigPath);
  assert.match(table.stdout, /^train\s+Succeeded\s+2\/2\s+0\.75\s+7\.8 KiB\s+/);
  const deployment = await w.world.apps.readNamespacedDeployment({
    name: "train-server",
    namespace: "default",
  });
  assert.equal(deployment.spec!.replicas, 0, "the server scales to 0 once the job is done");
  const events2 = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: "involvedObject.name=train",
  });
  const reasons = events2.items.map((e) => e.reason);
  assert.ok(reasons.includes("Running") && reasons.includes("TrainingCompleted"), reasons.join());
  const fallbackEvents = events2.items.filter((e) => e.reason === "CpuFallback");
  assert.equal(fallbackEvents.length, 1, "one Warning for the CPU fallback");
  assert.equal(fallbackEvents[0]!.type, "Warning");
});

test("a failed client pod is replaced after its backoff, up to the limit, then the job fails", async () => {
  await createJob(w.world, jobManifest("flaky", { clients: { count: 1 } }));
  await waitFor(async () => (await podNames(w.world, "flaky")).includes("flaky-client-0"), {
    timeoutMs: 10_000,
    description: "client pod",
  });
  // limit 2, base 1 s: restart 1 comes 1 s after the failure, restart 2 two seconds after the next.
  // (The backoff status in between is transient; the unit tests check it, here the timing is checked.)
  const replaced = async (failed: string, next: string, delayMs: number): Promise<void> => {
    // Pod timestamps have whole seconds; the next whole second is stored exactly as given.
    const finishedAt = new Date(Math.ceil(Date.now() / 1000) * 1000);
    await setPodPhase(w.world, failed, "Failed", { finishedAt });
    await waitFor(async () => (await podNames(w.world, "flaky")).join() === next, {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: `${next} to replace ${failed}`,
    });
    const after = Date.now() - finishedAt.getTime();
    assert.ok(
      after >= delayMs,
      `${next} came ${after} ms after the failure, before its ${delayMs} ms backoff`,
    );
  };
  await replaced("flaky-client-0", "flaky-client-0-r1", 1000);
  await replaced("flaky-client-0-r1", "flaky-client-0-r2", 2000);
  await setPodPhase(w.world, "flaky-client-0-r2", "Failed", { finishedAt: new Date() });
  const failed = await waitForJob(
    w.world,
    "flaky",
    (j) => j.status?.phase === "Failed",
    "Failed after the restart limit",
  );
  assert.equal(condition(failed, "Failed")?.reason, "ClientsFailed");
  assert.deepEqual(
    await podNames(w.world, "flaky"),
    ["flaky-client-0-r2"],
    "the last failed pod is kept for its logs",
  );
  const reasons = (
    await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: "involvedObject.name=flaky",
    })
  ).items.map((e) => e.reason);
  assert.ok(reasons.includes("ClientRestarted") && reasons.includes("ClientRestartLimit"), reasons.join());
});
