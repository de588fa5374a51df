// The client pods of a finished job (ADR 0012, amendments 2 and 3), against a real kube-apiserver + etcd
// and a real nats-server; no kubelet runs, so the tests set the pods' phases as one would. The clients of
// a job whose server announced its end (job.finished, job.failed) exit by themselves: their pods are
// left to do so for the operator's grace, and only a pod still up after it is deleted. A job the
// operator failed (its deadline) has its unfinished pods deleted at once, and once only (counted in the
// API server's audit log). A client whose pod was deleted before it exited is Unknown in
// status.clients, never Running on a job that finished. A job whose failure reason was lost
// (FailureReasonLost: it is not known whether its clients were told) leaves them the grace, and its
// ClientsReady says that it is not known (ADR 0023, amendment 10), until the job's event stream gives
// the server's job.failed sent before the job was recorded Failed (amendment 13), a completionTime of
// whole seconds compared to the second (amendment 28).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jobToken, type ClientStatus } from "@sfprompt/api";
import { ensureJobResources, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import { patchStatusUnderOlderCrd, unreadableTime, withUnreadableTime } from "../status-under-older-crd.js";
import { podDeleteAudit, type PodDeleteAudit } from "./audit-log.js";
import {
  createJob,
  getJob,
  patchJobSpec,
  podNames,
  runOperator,
  setPodPhase,
  setServerAvailable,
  startWorld,
  testConfig,
  waitForJob,
  condition,
  type JobObject,
  type OperatorWorld,
} from "./harness.js";

/** Long enough to set a pod's phase after the job finished, short enough to wait for its end. */
const GRACE_SECONDS = 6;

const w = {} as OperatorWorld;
let audit: PodDeleteAudit;
before(async () => {
  audit = await podDeleteAudit();
  w.world = await startWorld({ nats: true, apiServerArgs: audit.apiServerArgs });
  w.operator = await runOperator(
    w.world,
    testConfig(w.world, (c) => {
      c.children.finishedClientGraceMs = GRACE_SECONDS * 1000;
    }),
  );
  w.nc = await connect({ servers: w.world.nats!.url });
});
after(async () => {
  await w.nc?.drain();
  await w.operator?.stop();
  await w.world?.stop();
  await audit?.remove();
});

/**
 * The job's client pods not being deleted. Pods bound to a node are only marked for deletion until
 * their kubelet confirms; with no kubelet here, `removeAsKubelet` does that part.
 */
async function livePods(job: string): Promise<string[]> {
  const pods = await w.world.core.listNamespacedPod({
    namespace: "default",
    labelSelector: `sfprompt.io/job=${job}`,
  });
  return pods.items
    .filter((p) => p.metadata!.deletionTimestamp === undefined)
    .map((p) => p.metadata!.name!)
    .sort();
}

async function removeAsKubelet(name: string): Promise<void> {
  await w.world.core.deleteNamespacedPod({ name, namespace: "default", gracePeriodSeconds: 0 });
}

const clientsOf = (j: JobObject): ClientStatus[] => (j.status?.clients ?? []) as ClientStatus[];

/** The job once the operator reconciled an edit of ttlSecondsAfterFinished (which a finished job follows). */
async function reconciledAfterEdit(name: string, ttlSecondsAfterFinished = 3600): Promise<JobObject> {
  const edited = (await getJob(w.world, name))!.metadata!.generation! + 1;
  await patchJobSpec(w.world, name, { ttlSecondsAfterFinished });
  return waitForJob(
    w.world,
    name,
    (j) => j.metadata!.generation! >= edited && j.status?.observedGeneration === j.metadata!.generation,
    `${name}: the edit observed`,
  );
}

/** A 1-round job with two clients whose pods run on edge-0, the server available, both clients idle. */
async function runningJob(name: string): Promise<(e: Record<string, unknown>) => Promise<unknown>> {
  await createJob(w.world, jobManifest(name, { clients: { count: 2 }, training: { rounds: 1 } }));
  await waitFor(async () => (await podNames(w.world, name)).length === 2, {
    timeoutMs: 10_000,
    description: `${name}: 2 client pods`,
  });
  await setServerAvailable(w.world, `${name}-server`, 1);
  for (const i of [0, 1]) await setPodPhase(w.world, `${name}-client-${i}`, "Running", { node: "edge-0" });
  await waitForJob(w.world, name, (j) => j.status?.phase === "Running", `${name} Running`);
  const job = jobToken("default", name);
  await ensureJobResources(w.nc, job);
  return (e) =>
    publishEvent(w.nc, { v: 1, job, at: new Date().toISOString(), ...e } as unknown as ProgressEvent);
}

test("a Succeeded job's client pods still running are left to exit: one that does shows Succeeded, one that does not is deleted after the grace and shows Unknown", async () => {
  const publish = await runningJob("ends");
  await publish({
    type: "round.finished",
    round: 1,
    loss: 1,
    accuracy: 0.5,
    participants: ["client-0", "client-1"],
    samples: 10,
    bytes: { up: 100, down: 100, byKind: {} },
    durationMs: 1,
  });
  // The server answers client-0's poll with "done"; client-1 hears job.finished on the job-end subject.
  await publish({ type: "client.state", client: "client-0", state: "done" });
  await publish({
    type: "job.finished",
    rounds: 1,
    loss: 1,
    accuracy: 0.5,
    bytes: { up: 100, down: 100, byKind: {} },
  });
  const done = await waitForJob(w.world, "ends", (j) => j.status?.phase === "Succeeded", "ends Succeeded");
  assert.deepEqual(
    clientsOf(done).map((c) => [c.phase, c.state]),
    [
      ["Running", "done"],
      ["Running", "running"],
    ],
  );
  // Both pods are still there: neither is deleted while it may still exit by itself.
  assert.deepEqual(await livePods("ends"), ["ends-client-0", "ends-client-1"]);
  assert.equal(condition(done, "ClientsReady")?.reason, "JobFinished");

  // client-0 exits by itself (exit code 0), as the kubelet would report it.
  await setPodPhase(w.world, "ends-client-0", "Succeeded");
  const exited = await waitForJob(
    w.world,
    "ends",
    (j) => clientsOf(j)[0]?.phase === "Succeeded",
    "client 0 Succeeded",
  );
  assert.deepEqual(
    [clientsOf(exited)[0]?.state, clientsOf(exited)[0]?.pod, clientsOf(exited)[0]?.node],
    ["done", "ends-client-0", "edge-0"],
  );

  // client-1 never exits: once the grace is over its pod is deleted, the exited one kept for its logs.
  const finishedAt = Date.parse(done.status!.completionTime as string);
  await waitFor(async () => (await livePods("ends")).join() === "ends-client-0", {
    timeoutMs: (GRACE_SECONDS + 10) * 1000,
    description: "the pod that did not exit deleted after the grace",
  });
  assert.ok(Date.now() - finishedAt >= GRACE_SECONDS * 1000 - 1000, "deleted before the grace was over");
  const deleted = await waitForJob(
    w.world,
    "ends",
    (j) => clientsOf(j)[1]?.phase !== "Running",
    "client 1 deleted",
  );
  assert.deepEqual(
    clientsOf(deleted).map((c) => [c.phase, c.state]),
    [
      ["Succeeded", "done"],
      ["Unknown", "running"],
    ],
  );
  assert.match(
    clientsOf(deleted)[1]?.reason ?? "",
    /^pod ends-client-1 was deleted after the job succeeded, before it exited/,
  );
  // Once the pod is gone for good, a later reconcile (the TTL edit a finished job follows) keeps that.
  await removeAsKubelet("ends-client-1");
  await waitFor(async () => (await podNames(w.world, "ends")).join() === "ends-client-0", {
    timeoutMs: 10_000,
    description: "ends-client-1 removed",
  });
  assert.deepEqual(
    clientsOf(await reconciledAfterEdit("ends")).map((c) => [c.phase, c.state, c.pod]),
    [
      ["Succeeded", "done", "ends-client-0"],
      ["Unknown", "running", "ends-client-1"],
    ],
  );
});

test("a job its server failed (job.failed) leaves its clients the grace to exit: one that does is kept and shows Failed, one that does not is deleted after the grace and shows Unknown", async () => {
  const publish = await runningJob("stops");
  await publish({ type: "job.failed", reason: "ModelNotFound", message: "no model" });
  const failed = await waitForJob(w.world, "stops", (j) => j.status?.phase === "Failed", "stops Failed");
  assert.equal(condition(failed, "Failed")?.reason, "ModelNotFound");
  // The clients heard job.failed too: neither pod is deleted while it may still exit (and log why).
  assert.deepEqual(await livePods("stops"), ["stops-client-0", "stops-client-1"]);
  assert.match(condition(failed, "ClientsReady")?.message ?? "", /^the job failed on its server, which told/);

  // client-0 stops on job.failed with an error, as the kubelet would report it.
  await setPodPhase(w.world, "stops-client-0", "Failed", { finishedAt: new Date() });
  await waitForJob(w.world, "stops", (j) => clientsOf(j)[0]?.phase === "Failed", "client 0 Failed");

  // client-1 never exits: once the grace is over its pod is deleted, the exited one kept for its logs.
  const finishedAt = Date.parse(failed.status!.completionTime as string);
  await waitFor(async () => (await livePods("stops")).join() === "stops-client-0", {
    timeoutMs: (GRACE_SECONDS + 10) * 1000,
    description: "the pod that did not exit deleted after the grace",
  });
  assert.ok(Date.now() - finishedAt >= GRACE_SECONDS * 1000 - 1000, "deleted before the grace was over");
  const deleted = await waitForJob(
    w.world,
    "stops",
    (j) => clientsOf(j)[1]?.phase !== "Running",
    "client 1 deleted",
  );
  const expected = [
    ["Failed", "stops-client-0", "edge-0"],
    ["Unknown", "stops-client-1", "edge-0"],
  ];
  assert.deepEqual(
    clientsOf(deleted).map((c) => [c.phase, c.pod, c.node]),
    expected,
  );
  assert.match(
    clientsOf(deleted)[1]?.reason ?? "",
    /^pod stops-client-1 was deleted after the job failed, before it exited/,
  );
  await removeAsKubelet("stops-client-1");
  await waitFor(async () => (await podNames(w.world, "stops")).join() === "stops-client-0", {
    timeoutMs: 10_000,
    description: "stops-client-1 removed",
  });
  assert.deepEqual(
    clientsOf(await reconciledAfterEdit("stops")).map((c) => [c.phase, c.pod, c.node]),
    expected,
  );
});

test("a Failed job whose stored reason was lost (FailureReasonLost) says it is not known whether its clients were told, and leaves them the grace: one that exits is kept, one that does not is deleted after it", async () => {
  await runningJob("why-lost");
  const running = await waitForJob(w.world, "why-lost", (j) => clientsOf(j).length === 2, "why-lost");
  // Failed with no Failed condition, the conditions and completionTime not reading (times stored under
  // the older CRD): nothing says whether the server or the operator failed it
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name: "why-lost" },
    {
      phase: "Failed",
      completionTime: unreadableTime(now),
      conditions: withUnreadableTime(running, "Running").filter((c) => c.type !== "Failed"),
    },
  );
  const failed = await waitForJob(
    w.world,
    "why-lost",
    (j) =>
      condition(j, "Failed")?.status === "True" && condition(j, "ClientsReady")?.reason === "JobFinished",
    "why-lost Failed, its status repaired",
  );
  assert.equal(condition(failed, "Failed")?.reason, "FailureReasonLost");
  assert.match(
    condition(failed, "ClientsReady")?.message ?? "",
    /^the job failed, and why is lost \(FailureReasonLost\), so whether its server told its clients .* is not known: client pods that have not exited when the operator's grace/,
  );
  // neither pod is deleted while it may still exit
  assert.deepEqual(await livePods("why-lost"), ["why-lost-client-0", "why-lost-client-1"]);
  await setPodPhase(w.world, "why-lost-client-0", "Succeeded", { finishedAt: new Date() });
  await waitForJob(w.world, "why-lost", (j) => clientsOf(j)[0]?.phase === "Succeeded", "client 0 Succeeded");
  const finishedAt = Date.parse(failed.status!.completionTime as string);
  await waitFor(async () => (await livePods("why-lost")).join() === "why-lost-client-0", {
    timeoutMs: (GRACE_SECONDS + 10) * 1000,
    description: "the pod that did not exit deleted after the grace",
  });
  assert.ok(Date.now() - finishedAt >= GRACE_SECONDS * 1000 - 1000, "deleted before the grace was over");
  await removeAsKubelet("why-lost-client-1");
});

test("a Failed job whose stored reason was lost takes its server's reason back once the event stream gives the job.failed sent before the job was recorded Failed", async () => {
  const publish = await runningJob("why-back");
  const running = await waitForJob(w.world, "why-back", (j) => clientsOf(j).length === 2, "why-back");
  // the server's job.failed, sent before the operator recorded the failure, is not in the stream yet
  // (a stream that was away): the stored Failed condition and the completionTime do not read
  const sentAt = new Date(Date.now() - 5_000).toISOString();
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name: "why-back" },
    {
      phase: "Failed",
      completionTime: unreadableTime(now),
      conditions: withUnreadableTime(running, "Running").filter((c) => c.type !== "Failed"),
    },
  );
  const lost = await waitForJob(
    w.world,
    "why-back",
    (j) => condition(j, "Failed")?.reason === "FailureReasonLost",
    "why-back Failed, its reason lost",
  );
  const failedAt = condition(lost, "Failed")?.lastTransitionTime;

  // the stream is back with the server's job.failed: the reason it gives replaces the lost one
  await publish({ type: "job.failed", reason: "ModelNotFound", message: "no model", at: sentAt });
  const back = await waitForJob(
    w.world,
    "why-back",
    (j) => condition(j, "Failed")?.reason === "ModelNotFound",
    "why-back's reason read back from the stream",
  );
  const failed = condition(back, "Failed")!;
  assert.equal(back.status?.phase, "Failed");
  assert.equal(failed.status, "True");
  assert.match(failed.message ?? "", /^no model\. /);
  assert.equal(failed.lastTransitionTime, failedAt, "the job failed when it did");
  assert.equal(back.status?.completionTime, lost.status?.completionTime);
  // its clients were told (they heard job.failed): the grace and its text, as for any server failure
  assert.match(condition(back, "ClientsReady")?.message ?? "", /^the job failed on its server, which told/);
});

test("a Failed job whose stored reason was lost, with a completionTime of whole seconds, takes back a job.failed stamped later in that second", async () => {
  // ADR 0023 amendment 28: a completionTime of whole seconds (metav1.Time; the ConfigMap's
  // managedFields time a repair gives) says the job was recorded Failed somewhere in that second; a
  // job.failed stamped in it was compared to the millisecond and kept FailureReasonLost
  const publish = await runningJob("why-second");
  const running = await waitForJob(w.world, "why-second", (j) => clientsOf(j).length === 2, "why-second");
  const second = Math.floor(Date.now() / 1000) * 1000 - 5_000;
  const completionTime = new Date(second).toISOString().replace(/\.\d+Z$/, "Z");
  await patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name: "why-second" },
    {
      phase: "Failed",
      completionTime,
      conditions: withUnreadableTime(running, "Running").filter((c) => c.type !== "Failed"),
    },
  );
  const lost = await waitForJob(
    w.world,
    "why-second",
    (j) => condition(j, "Failed")?.reason === "FailureReasonLost",
    "why-second Failed, its reason lost",
  );
  assert.equal(lost.status?.completionTime, completionTime);
  await publish({
    type: "job.failed",
    reason: "ModelNotFound",
    message: "no model",
    at: new Date(second + 500).toISOString(),
  });
  // folded after the job.failed: once its loss is in the status, so was the job.failed
  await publish({
    type: "round.finished",
    round: 1,
    loss: 1,
    accuracy: 0.5,
    participants: ["client-0", "client-1"],
    samples: 10,
    bytes: { up: 100, down: 100, byKind: {} },
    durationMs: 1,
  });
  const folded = await waitForJob(
    w.world,
    "why-second",
    (j) => (j.status?.metrics as { loss?: number } | undefined)?.loss === 1,
    "why-second's stream folded",
    30_000,
  );
  assert.equal(condition(folded, "Failed")?.reason, "ModelNotFound", `completionTime ${completionTime}`);
  assert.equal(folded.status?.completionTime, completionTime, "the job failed when it was recorded");
});

test("a client of a job its server failed whose Failed pod the operator first sees after its restart backoff shows Failed, its pod kept, not Unknown", async () => {
  const publish = await runningJob("seen-late");
  await publish({ type: "job.failed", reason: "ModelNotFound", message: "no model" });
  await waitForJob(w.world, "seen-late", (j) => j.status?.phase === "Failed", "seen-late Failed");
  // It exited a minute ago, longer than any restart backoff: a reconcile late to see the pod (a busy
  // operator, one that restarted) finds the backoff over, and a finished job starts no replacement.
  await setPodPhase(w.world, "seen-late-client-0", "Failed", { finishedAt: new Date(Date.now() - 60_000) });
  const seen = await waitForJob(
    w.world,
    "seen-late",
    (j) => clientsOf(j)[0]?.phase !== "Running",
    "client 0 seen to end",
  );
  const c = clientsOf(seen)[0];
  assert.deepEqual(
    [c?.phase, c?.state, c?.pod, c?.node, c?.restarts],
    ["Failed", "failed", "seen-late-client-0", "edge-0", 0],
  );
  assert.match(c?.reason ?? "", /^Error \(exit code 1\)/);
  assert.ok(
    (await livePods("seen-late")).includes("seen-late-client-0"),
    "the Failed pod is kept for its logs",
  );
});

test("a job the operator failed (its deadline) deletes its unfinished client pods at once, and later reconciles do not delete them again", async () => {
  await runningJob("late");
  await patchJobSpec(w.world, "late", { activeDeadlineSeconds: 1 });
  const failed = await waitForJob(w.world, "late", (j) => j.status?.phase === "Failed", "late Failed");
  assert.equal(condition(failed, "Failed")?.reason, "DeadlineExceeded");
  assert.match(condition(failed, "ClientsReady")?.message ?? "", /deleted at once/);
  // Deleted in the reconcile that failed the job, before its status said so; with no kubelet to
  // confirm, the pods bound to edge-0 stay Terminating, in every reconcile's view.
  const names = ["late-client-0", "late-client-1"];
  assert.deepEqual(await livePods("late"), []);
  assert.deepEqual(await podNames(w.world, "late"), names);
  const gone = await waitForJob(
    w.world,
    "late",
    (j) => clientsOf(j).every((c) => c.phase === "Unknown"),
    "both clients Unknown",
  );
  assert.match(
    clientsOf(gone)[0]?.reason ?? "",
    /^pod late-client-0 was deleted after the job failed, before it exited/,
  );

  // A first reconcile (an edit) lets the operator's pod cache catch up with the deletions; the count
  // of DELETE requests then stays as it is through the next.
  await reconciledAfterEdit("late", 3600);
  const before = await Promise.all(names.map((n) => audit.deletes(n)));
  assert.ok(
    before.every((n) => n >= 1),
    `each pod deleted: ${before.join(", ")}`,
  );
  await reconciledAfterEdit("late", 7200);
  assert.deepEqual(
    await Promise.all(names.map((n) => audit.deletes(n))),
    before,
    "DELETEs of Terminating pods",
  );
  assert.deepEqual(await podNames(w.world, "late"), names);
});
