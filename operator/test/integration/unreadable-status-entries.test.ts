// A stored status with one list entry that does not read (a condition's time with an offset of
// +99:99, stored under the older CRD) on a real kube-apiserver: the operator drops that entry alone, so
// the job keeps its other conditions with their times and reasons, its startTime and completionTime,
// and a job Failed by an invalid spec still carries on once the spec is fixed (ADR 0023, amendment 8).
import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusSchema } from "@sfprompt/api";
import { waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { patchStatusUnderOlderCrd, unreadableTime, withUnreadableTime } from "../status-under-older-crd.js";
import { condition, createJob, patchJobSpec, waitForJob, worldHooks, type JobObject } from "./harness.js";

const w = worldHooks(installOlderCrd);

type Condition = NonNullable<NonNullable<JobObject["status"]>["conditions"]>[number];

const reads = (j: JobObject): boolean => StatusSchema.safeParse(j.status).success;

/** Stores the job's conditions with `type`'s time unreadable (a merge patch replaces the list). */
function spoilCondition(j: JobObject, type: string): Promise<string> {
  return patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name: j.metadata!.name! },
    { conditions: withUnreadableTime(j, type) },
  );
}

async function unreadableEventSeen(name: string): Promise<boolean> {
  const list = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${name},reason=StatusUnreadable`,
  });
  return list.items.length > 0;
}

test("a condition whose time does not read is written again alone: the other conditions keep their reasons and times, the start and completion times stay", async () => {
  await createJob(w.world, jobManifest("late", { clients: { count: 1 }, activeDeadlineSeconds: 1 }));
  const failed = await waitForJob(
    w.world,
    "late",
    (j) => j.status?.phase === "Failed",
    "late to pass its deadline",
  );
  assert.equal(condition(failed, "Failed")?.reason, "DeadlineExceeded");

  const version = await spoilCondition(failed, "ServerReady");
  const fixed = await waitForJob(
    w.world,
    "late",
    (j) => reads(j) && j.metadata!.resourceVersion !== version,
    "the status rewritten so that it reads",
  );
  const others = (j: JobObject): Condition[] =>
    (j.status?.conditions ?? []).filter((c) => c.type !== "ServerReady");
  assert.deepEqual(others(fixed), others(failed), "the conditions that read keep their reasons and times");
  const ready = condition(fixed, "ServerReady");
  assert.equal(
    ready?.reason,
    condition(failed, "ServerReady")?.reason,
    "the dropped condition is computed again",
  );
  assert.equal(fixed.status?.startTime, failed.status?.startTime);
  assert.equal(fixed.status?.completionTime, failed.status?.completionTime);
});

test("a job Failed by an invalid spec, with another condition that does not read, carries on once the spec is fixed", async () => {
  await createJob(w.world, jobManifest("requorate", { clients: { count: 4, perRound: { fraction: 0.5 } } }));
  await waitForJob(w.world, "requorate", (j) => j.status?.phase === "Pending", "requorate to be Pending");
  await patchJobSpec(w.world, "requorate", { training: { quorum: { count: 3, fraction: null } } });
  const invalid = await waitForJob(
    w.world,
    "requorate",
    (j) => condition(j, "Failed")?.reason === "InvalidSpec",
    "requorate to fail with InvalidSpec",
  );

  await spoilCondition(invalid, "ServerReady");
  // the operator has read the status that does not read before the spec is fixed
  await waitFor(() => unreadableEventSeen("requorate"), {
    timeoutMs: 15_000,
    description: "the StatusUnreadable event",
  });
  const kept = await waitForJob(w.world, "requorate", reads, "the status rewritten so that it reads");
  assert.equal(condition(kept, "Failed")?.reason, "InvalidSpec", "the Failed condition keeps its reason");

  await patchJobSpec(w.world, "requorate", { training: { quorum: { count: 2 } } });
  const carried = await waitForJob(
    w.world,
    "requorate",
    (j) => j.status?.phase === "Pending" && condition(j, "Failed")?.status === "False",
    "requorate to carry on after the fix",
  );
  assert.equal(carried.status?.completionTime, undefined, "an invalid spec did not finish the job");
});

test("a finished job whose completionTime does not read gets back the time its Failed condition says, not now", async () => {
  await createJob(
    w.world,
    jobManifest("ttl", { clients: { count: 1 }, activeDeadlineSeconds: 1, ttlSecondsAfterFinished: 3600 }),
  );
  // the client's entry settles a reconcile after the phase (its pod deleted: Unknown)
  const failed = await waitForJob(
    w.world,
    "ttl",
    (j) =>
      j.status?.phase === "Failed" &&
      (j.status.clients as { phase?: string }[] | undefined)?.[0]?.phase === "Unknown",
    "ttl to pass its deadline, its client pod deleted",
  );
  const finished = String(failed.status!.completionTime);
  assert.equal(condition(failed, "Failed")?.lastTransitionTime, finished, "written together");

  const version = await patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name: "ttl" },
    { completionTime: unreadableTime(finished) },
  );
  const fixed = await waitForJob(
    w.world,
    "ttl",
    (j) => reads(j) && j.metadata!.resourceVersion !== version,
    "the status rewritten so that it reads",
  );
  assert.equal(fixed.status?.completionTime, finished, "the TTL counts from when the job finished");
  assert.deepEqual(fixed.status, failed.status);
});
