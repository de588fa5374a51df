import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsServer } from "@sfprompt/protocol/testing";
import { jobToken, natsNames } from "@sfprompt/api";
import {
  artifactBucketName,
  checkpointObjectName,
  ensureJobResources,
  FINAL_ARTIFACT_OBJECT,
  jobStreamNames,
  openExistingArtifactStore,
} from "@sfprompt/protocol";
import { waitFor } from "@sfprompt/kube-testing";
import { GROUP, PLURAL, VERSION } from "@sfprompt/api";
import { jobManifest } from "../fixtures.js";
import {
  createJob,
  getJob,
  patchJobSpec,
  podNames,
  setPodPhase,
  setServerAvailable,
  waitForJob,
  condition,
  operatorWorldHooks,
  runOperator,
  testConfig,
} from "./harness.js";

const w = operatorWorldHooks();

async function streams(nc: NatsConnection = w.nc): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const n of jsm.streams.names()) names.push(n);
  return names.sort();
}

async function deleteJob(name: string): Promise<void> {
  await w.world.custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: "default",
    name,
  });
}

test("suspend deletes the client pods and scales the server to 0; resuming recreates them", async () => {
  await createJob(w.world, jobManifest("pause", { clients: { count: 2 } }));
  await waitFor(async () => (await podNames(w.world, "pause")).length === 2, {
    timeoutMs: 10_000,
    description: "2 pods",
  });
  await patchJobSpec(w.world, "pause", { suspend: true });
  const suspended = await waitForJob(w.world, "pause", (j) => j.status?.phase === "Suspended", "Suspended");
  assert.equal(condition(suspended, "Suspended")?.status, "True");
  assert.equal(suspended.status!.startTime, undefined);
  await waitFor(async () => (await podNames(w.world, "pause")).length === 0, {
    timeoutMs: 10_000,
    description: "pods deleted",
  });
  const d = await w.world.apps.readNamespacedDeployment({ name: "pause-server", namespace: "default" });
  assert.equal(d.spec!.replicas, 0);
  await patchJobSpec(w.world, "pause", { suspend: false });
  await waitForJob(w.world, "pause", (j) => j.status?.phase === "Pending" && !!j.status.startTime, "resumed");
  await waitFor(async () => (await podNames(w.world, "pause")).length === 2, {
    timeoutMs: 10_000,
    description: "pods recreated",
  });
});

test("activeDeadlineSeconds fails the job with DeadlineExceeded and removes its running pods", async () => {
  // The deadline must fire from its own requeue, not from the periodic resync: this test's operator
  // resyncs every 600 s, so a job that fails within the wait below was failed by the deadline's timer.
  // (A stopwatch bound on completionTime - startTime, as before, failed on a loaded machine.)
  await w.operator.stop();
  w.operator = await runOperator(
    w.world,
    testConfig(w.world, (c) => {
      c.resyncMs = 600_000;
    }),
  );
  try {
    await deadlineFailsTheJob();
  } finally {
    await w.operator.stop();
    w.operator = await runOperator(w.world, testConfig(w.world));
  }
});

async function deadlineFailsTheJob(): Promise<void> {
  await createJob(w.world, jobManifest("late", { clients: { count: 1 }, activeDeadlineSeconds: 2 }));
  await waitFor(async () => (await podNames(w.world, "late")).length === 1, {
    timeoutMs: 10_000,
    description: "pod",
  });
  await setServerAvailable(w.world, "late-server", 1);
  await setPodPhase(w.world, "late-client-0", "Running");
  await waitForJob(
    w.world,
    "late",
    (j) => condition(j, "ClientsReady")?.status === "True",
    "a running client",
  );
  const failed = await waitForJob(
    w.world,
    "late",
    (j) => j.status?.phase === "Failed",
    "Failed by deadline (its requeue; the 600 s resync is far off)",
    60_000,
  );
  assert.equal(condition(failed, "Failed")?.reason, "DeadlineExceeded");
  // Its running pods are being deleted: no condition may still say they run.
  assert.deepEqual(
    [condition(failed, "ClientsReady")?.status, condition(failed, "ClientsReady")?.reason],
    ["False", "JobFinished"],
  );
  const elapsed =
    Date.parse(failed.status!.completionTime as string) - Date.parse(failed.status!.startTime as string);
  assert.ok(elapsed >= 2000, `failed ${elapsed} ms after start, before the 2 s deadline`);
  await waitFor(async () => (await podNames(w.world, "late")).length === 0, {
    timeoutMs: 10_000,
    description: "pending pod deleted",
  });
}

test("ttlSecondsAfterFinished deletes the finished job, and the finalizer removes its NATS streams", async () => {
  await ensureJobResources(w.nc, jobToken("default", "short"));
  assert.ok((await streams()).includes(jobStreamNames(jobToken("default", "short"))[0]!));
  await createJob(
    w.world,
    jobManifest("short", { clients: { count: 1 }, activeDeadlineSeconds: 1, ttlSecondsAfterFinished: 1 }),
  );
  await waitForJob(w.world, "short", (j) => j.status?.phase === "Failed", "Failed", 10_000);
  await waitFor(async () => (await getJob(w.world, "short")) === undefined, {
    timeoutMs: 10_000,
    description: "job deleted by TTL",
  });
  const left = await streams();
  for (const s of jobStreamNames(jobToken("default", "short"))) assert.ok(!left.includes(s), `${s} removed`);
});

test("deleting a job runs the finalizer: NATS resources go, then the job", async () => {
  await createJob(w.world, jobManifest("gone", { clients: { count: 1 } }));
  await waitForJob(
    w.world,
    "gone",
    (j) => (j.metadata?.finalizers ?? []).includes("sfprompt.io/nats-cleanup"),
    "finalizer added",
  );
  const token = jobToken("default", "gone");
  await ensureJobResources(w.nc, token);
  await deleteJob("gone");
  await waitFor(async () => (await getJob(w.world, "gone")) === undefined, {
    timeoutMs: 10_000,
    description: "job deleted",
  });
  const left = await streams();
  for (const s of jobStreamNames(token)) assert.ok(!left.includes(s), `${s} removed`);
});

test("deleting a job that names spec.output.bucket keeps that bucket and its objects; its stream and state go", async () => {
  const bucket = "named-ckpts";
  await createJob(w.world, jobManifest("named", { clients: { count: 1 }, output: { bucket } }));
  await waitForJob(
    w.world,
    "named",
    (j) => (j.metadata?.finalizers ?? []).includes("sfprompt.io/nats-cleanup"),
    "finalizer added",
  );
  const names = natsNames("default", "named", bucket);
  const { artifacts } = await ensureJobResources(w.nc, names);
  const checkpoint = new Uint8Array([1, 2, 3]);
  const final = new Uint8Array([4, 5]);
  await artifacts.put(checkpointObjectName(1), checkpoint);
  await artifacts.put(FINAL_ARTIFACT_OBJECT, final);
  await deleteJob("named");
  await waitFor(async () => (await getJob(w.world, "named")) === undefined, {
    timeoutMs: 10_000,
    description: "job deleted",
  });
  const left = await streams();
  for (const s of jobStreamNames(names).filter((s) => s !== `OBJ_${bucket}`))
    assert.ok(!left.includes(s), `${s} removed`);
  assert.ok(left.includes(`OBJ_${bucket}`), "the named bucket outlives the job");
  assert.ok(!left.includes(`OBJ_${artifactBucketName(names.job)}`), "no default bucket was made");
  const kept = await openExistingArtifactStore(w.nc, bucket);
  assert.ok(kept !== null, "the named bucket opens");
  assert.deepEqual(await kept.names(), [checkpointObjectName(1), FINAL_ARTIFACT_OBJECT].sort());
  assert.deepEqual([...((await kept.get(checkpointObjectName(1))) ?? [])], [...checkpoint]);
  assert.deepEqual([...((await kept.get(FINAL_ARTIFACT_OBJECT)) ?? [])], [...final]);
});

test("a job moved to another NATS (spec.transport.url) has its streams removed at both on deletion", async () => {
  const b = await startNatsServer();
  const nb = await connect({ servers: b.url });
  try {
    const token = jobToken("default", "relocated");
    await createJob(w.world, jobManifest("relocated", { clients: { count: 1 } }));
    await waitForJob(w.world, "relocated", (j) => j.status?.phase === "Pending", "Pending");
    await ensureJobResources(w.nc, token);
    await patchJobSpec(w.world, "relocated", { transport: { url: b.url } });
    await waitForJob(
      w.world,
      "relocated",
      (j) => j.metadata?.generation === 2 && j.status?.observedGeneration === 2,
      "the move observed",
    );
    await ensureJobResources(nb, token);
    await deleteJob("relocated");
    await waitFor(async () => (await getJob(w.world, "relocated")) === undefined, {
      timeoutMs: 10_000,
      description: "job deleted",
    });
    for (const [where, nc] of [
      ["the first NATS", w.nc],
      ["the second NATS", nb],
    ] as const) {
      const left = await streams(nc);
      for (const s of jobStreamNames(token)) assert.ok(!left.includes(s), `${s} removed at ${where}`);
    }
  } finally {
    // The operator's connection to b would retry for ever: stop it first, and start a new one.
    await nb.drain();
    await w.operator.stop();
    await b.stop();
    w.operator = await runOperator(w.world, testConfig(w.world));
  }
});

test("with NATS unreachable the finalizer retries with Warning events, then gives up after its timeout", async () => {
  await createJob(
    w.world,
    jobManifest("stuck", { clients: { count: 1 }, transport: { url: "nats://127.0.0.1:1" } }),
  );
  await waitForJob(
    w.world,
    "stuck",
    (j) => (j.metadata?.finalizers ?? []).includes("sfprompt.io/nats-cleanup"),
    "finalizer added",
  );
  const t0 = Date.now();
  await deleteJob("stuck");
  const pending = await waitForJob(
    w.world,
    "stuck",
    (j) => !!j.metadata?.deletionTimestamp,
    "deletion requested",
  );
  assert.ok(
    pending.metadata!.finalizers!.includes("sfprompt.io/nats-cleanup"),
    "held by the finalizer while retrying",
  );
  await waitFor(async () => (await getJob(w.world, "stuck")) === undefined, {
    timeoutMs: 15_000,
    description: "finalizer gives up",
  });
  // The operator counts its 3 s from the deletionTimestamp, which the API server keeps to the second:
  // measured from our own clock before the delete, it may give up up to 1 s "early".
  const requested = new Date(pending.metadata!.deletionTimestamp!).getTime();
  assert.ok(requested >= Math.floor(t0 / 1000) * 1000, "deletionTimestamp is the delete's second");
  assert.ok(Date.now() >= requested + 3000, "not before the 3 s give-up timeout after the deletionTimestamp");
  const reasons = (
    await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: "involvedObject.name=stuck",
    })
  ).items.map((e) => e.reason);
  assert.ok(
    reasons.includes("NatsCleanupFailed") && reasons.includes("NatsCleanupAbandoned"),
    reasons.join(),
  );
});
