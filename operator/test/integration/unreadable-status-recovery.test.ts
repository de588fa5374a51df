// A stored status whose lost values other records give back, on a real kube-apiserver (the status
// stored under the older CRD, as in unreadable-status-entries): a startTime that does not read comes
// back from the Suspended condition or the oldest client pod, not now; a Failed condition whose time
// does not read keeps its reason; a finished job whose spec turned invalid still gets its status
// repaired, with SpecRejected saying what is wrong; a finished job's rounds come back from its
// ConfigMap and a client's restarts from its pod's name, its pod gone (ADR 0023, amendment 9).
import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusSchema } from "@sfprompt/api";
import { jobManifest } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { patchStatusUnderOlderCrd, unreadableTime, withUnreadableTime } from "../status-under-older-crd.js";
import {
  condition,
  createJob,
  patchJobSpec,
  podNames,
  setPodPhase,
  waitForJob,
  worldHooks,
  type JobObject,
} from "./harness.js";

const w = worldHooks(installOlderCrd);

type Condition = NonNullable<NonNullable<JobObject["status"]>["conditions"]>[number];

type ClientView = { index: number; phase?: string; restarts?: number; pod?: string };
const client0 = (j: JobObject): ClientView | undefined =>
  (j.status?.clients as ClientView[] | undefined)?.[0];

const reads = (j: JobObject): boolean => StatusSchema.safeParse(j.status).success;

/** Stores `status` under the older CRD; the job as the operator rewrote it so that it reads again. */
async function spoilAndWait(name: string, status: Record<string, unknown>): Promise<JobObject> {
  const version = await patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name },
    status,
  );
  return waitForJob(
    w.world,
    name,
    (j) => reads(j) && j.metadata!.resourceVersion !== version,
    "the status rewritten so that it reads",
  );
}

test("a startTime that does not read comes back as it was, not now: from its lower-case form, the Suspended condition, or the oldest client pod", async () => {
  await createJob(w.world, jobManifest("clock", { clients: { count: 1 }, activeDeadlineSeconds: 3600 }));
  const pending = await waitForJob(
    w.world,
    "clock",
    (j) => j.status?.phase === "Pending" && j.status.startTime !== undefined,
    "clock to be Pending with a startTime",
  );
  const start = String(pending.status!.startTime);
  assert.equal(condition(pending, "Suspended")?.lastTransitionTime, start, "written together");

  const lower = await spoilAndWait("clock", { startTime: start.toLowerCase() });
  assert.equal(lower.status?.startTime, start, "the lower-case time is the same instant");

  const fromCondition = await spoilAndWait("clock", { startTime: unreadableTime(start) });
  assert.equal(fromCondition.status?.startTime, start, "the Suspended condition's time");

  const fromPod = await spoilAndWait("clock", {
    startTime: unreadableTime(start),
    conditions: withUnreadableTime(fromCondition, "Suspended"),
  });
  const pod = await w.world.core.readNamespacedPod({ name: "clock-client-0", namespace: "default" });
  const created = new Date(pod.metadata!.creationTimestamp!).toISOString();
  assert.equal(fromPod.status?.startTime, created, "the oldest client pod's creation time");
  // near the start the deadline counted from: the pod's creation time is in whole seconds (up to a
  // second before), and the reconcile that stamped the start read its clock before it created the
  // pod (after it, by however long the API server took: 0.2 s was seen on a loaded machine)
  const early = Date.parse(start) - Date.parse(created);
  assert.ok(early > -10_000 && early < 1000, `${created} near ${start}`);
});

test("a Failed condition whose time does not read keeps its reason and message, at the completion time", async () => {
  await createJob(w.world, jobManifest("late", { clients: { count: 1 }, activeDeadlineSeconds: 1 }));
  const failed = await waitForJob(
    w.world,
    "late",
    (j) => j.status?.phase === "Failed" && client0(j)?.phase === "Unknown",
    "late to pass its deadline, its client pod deleted",
  );
  assert.equal(condition(failed, "Failed")?.reason, "DeadlineExceeded");
  assert.equal(condition(failed, "Failed")?.lastTransitionTime, failed.status?.completionTime);

  const fixed = await spoilAndWait("late", { conditions: withUnreadableTime(failed, "Failed") });
  // DeadlineExceeded with its message and time, and the ClientsReady text that follows from it
  assert.deepEqual(fixed.status, failed.status);
});

test("a finished job whose spec turned invalid gets its status repaired and SpecRejected, and stays as it finished once the spec is fixed", async () => {
  await createJob(
    w.world,
    jobManifest("over", { clients: { count: 4, perRound: { fraction: 0.5 } }, activeDeadlineSeconds: 1 }),
  );
  const failed = await waitForJob(w.world, "over", (j) => j.status?.phase === "Failed", "over to fail");
  await patchJobSpec(w.world, "over", { training: { quorum: { count: 3, fraction: null } } });
  const rejected = await waitForJob(
    w.world,
    "over",
    (j) => condition(j, "SpecRejected")?.status === "True",
    "SpecRejected on the finished job",
  );
  assert.equal(condition(rejected, "SpecRejected")?.reason, "InvalidSpec");
  assert.match(condition(rejected, "SpecRejected")?.message ?? "", /^spec\.training\.quorum/);
  const pods = await podNames(w.world, "over");

  const repaired = await spoilAndWait("over", { conditions: withUnreadableTime(rejected, "ServerReady") });
  const others = (j: JobObject): Condition[] =>
    (j.status?.conditions ?? []).filter((c) => c.type !== "ServerReady");
  assert.deepEqual(others(repaired), others(rejected), "the conditions that read are kept");
  assert.equal(condition(repaired, "Failed")?.reason, "DeadlineExceeded");
  assert.equal(repaired.status?.completionTime, failed.status?.completionTime);

  await patchJobSpec(w.world, "over", { training: { quorum: { count: 2 } } });
  const valid = await waitForJob(
    w.world,
    "over",
    (j) => condition(j, "SpecRejected")?.status === "False",
    "SpecRejected False once the spec is valid",
  );
  assert.equal(condition(valid, "SpecRejected")?.reason, "SpecValid");
  assert.equal(valid.status?.phase, "Failed");
  assert.equal(condition(valid, "Failed")?.reason, "DeadlineExceeded");
  assert.equal(valid.status?.completionTime, failed.status?.completionTime);
  // the reconcile that wrote SpecValid applied the children first: it made no client pod
  assert.deepEqual(await podNames(w.world, "over"), pods, "no client pod is made again");
});

test("a finished job's rounds and a gone client's restarts that do not read come back from the ConfigMap and the pod's name, not the edited spec and 0", async () => {
  await createJob(w.world, jobManifest("again", { clients: { count: 1 }, training: { rounds: 3 } }));
  await waitForJob(w.world, "again", (j) => client0(j)?.pod === "again-client-0", "client 0's pod");
  await setPodPhase(w.world, "again-client-0", "Failed", { finishedAt: new Date() });
  await waitForJob(w.world, "again", (j) => client0(j)?.pod === "again-client-0-r1", "restart 1");
  // ended by the operator: the unfinished pod is deleted at once, its entry keeps the pod's name
  await patchJobSpec(w.world, "again", { activeDeadlineSeconds: 1 });
  const failed = await waitForJob(
    w.world,
    "again",
    (j) => j.status?.phase === "Failed" && client0(j)?.phase === "Unknown",
    "again to fail, its client pod deleted",
  );
  assert.deepEqual(await podNames(w.world, "again"), []);
  assert.equal(client0(failed)?.restarts, 1);
  await patchJobSpec(w.world, "again", { training: { rounds: 7 } });
  const edited = await waitForJob(
    w.world,
    "again",
    (j) => j.status?.observedGeneration === j.metadata?.generation,
    "the edit observed",
  );
  assert.equal(edited.status?.rounds, 3, "an edit after it finished changes nothing");

  const fixed = await spoilAndWait("again", {
    rounds: 2 ** 53,
    clients: [{ ...client0(edited), restarts: 2 ** 53 }],
  });
  assert.equal(fixed.status?.rounds, 3, "the rounds it ran with, not the edited spec's");
  assert.equal(client0(fixed)?.restarts, 1, "the restart its pod's name says");
  assert.deepEqual(fixed.status, edited.status);
});
