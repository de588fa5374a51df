// The finished-outcome record kept up to date and used where amendment 18 left it out, on a real
// kube-apiserver and nats-server (ADR 0023, amendment 21): a record of a lost reason is replaced once
// the stream reads the reason back; a job finished under an operator that wrote only the spec record
// gets its outcome recorded from its status, and, its status then lost too, is held as Failed with
// OutcomeUnknown instead of starting again; a finished job whose spec no longer reads and whose status
// was removed gets its recorded outcome back, with the spec problem in SpecRejected, not InvalidSpec.
import assert from "node:assert/strict";
import { test } from "node:test";
import { jobToken } from "@sfprompt/api";
import { ensureJobResources, publishEvent } from "@sfprompt/protocol";
import { jobManifest } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { patchStatusUnderOlderCrd } from "../status-under-older-crd.js";
import { OUTCOME, reads, SPEC, finishedJobHelpers } from "./finished-jobs.js";
import { eventBase, roundFinished } from "./progress-events.js";
import {
  condition,
  createJob,
  operatorWorldHooks,
  patchJobSpec,
  podNames,
  waitForJob,
  type JobObject,
} from "./harness.js";

const w = operatorWorldHooks(installOlderCrd);
const { whileStopped, writeStatus, failedByDeadline, configMap, annotate, eventsOf, server } =
  finishedJobHelpers(w);

async function failedByServer(name: string): Promise<JobObject> {
  await createJob(w.world, jobManifest(name, { clients: { count: 1 } }));
  await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
  const job = jobToken("default", name);
  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "job.failed",
    reason: "ModelNotFound",
    message: "no model",
  });
  const failed = await waitForJob(w.world, name, (j) => j.status?.phase === "Failed", `${name} Failed`);
  assert.equal(condition(failed, "Failed")?.reason, "ModelNotFound");
  return failed;
}

async function recordOf(name: string): Promise<Record<string, unknown> | undefined> {
  const text = (await configMap(name)).annotations[OUTCOME];
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

const setRecord = (name: string, value: string | null): Promise<void> => annotate(name, { [OUTCOME]: value });

test("a record of a lost reason (FailureReasonLost) is replaced by the reason the stream reads back, so a later loss gives the reason", async () => {
  const failed = await failedByServer("relost");
  const record = await recordOf("relost");
  assert.equal(record?.reason, "ModelNotFound");
  // as an operator that repaired the status before recording it would have left them: the record of
  // a lost reason, and the Failed condition gone again (nothing of it reads: FailureReasonLost)
  const spoiled = (failed.status?.conditions ?? [])
    .filter((c) => c.type !== "Failed")
    .map((c) => (c.type === "Running" ? { ...c, lastTransitionTime: "2026-01-01T00:00:00+99:99" } : c));
  await whileStopped(async () => {
    await setRecord(
      "relost",
      JSON.stringify({ ...record, reason: "FailureReasonLost", message: "the reason was lost" }),
    );
    await patchStatusUnderOlderCrd(
      w.world.cp.kubeconfigPath,
      { namespace: "default", name: "relost" },
      { conditions: spoiled },
    );
  });
  const back = await waitForJob(
    w.world,
    "relost",
    (j) => reads(j) && condition(j, "Failed")?.reason === "ModelNotFound",
    "relost's reason read back from the stream",
  );
  const events = (await eventsOf("relost", "FailureReasonReadBack")).map((e) => e.message);
  assert.ok(
    events.some((m) => m.includes("(FailureReasonLost), is read back from its server's job.failed")),
    events.join("\n"),
  );
  // the record applied in the reconcile that read it back, before its status write
  const updated = await recordOf("relost");
  assert.equal(updated?.reason, "ModelNotFound", JSON.stringify(updated));
  assert.equal(updated?.message, condition(back, "Failed")?.message);
  assert.equal(updated?.completionTime, record?.completionTime);
});

test("a job finished under an operator without the outcome record gets one from its status; its status then lost, it is held Failed with OutcomeUnknown and not started again", async () => {
  const failed = await failedByDeadline("older");
  const before = await server("older");
  const spec = (await configMap("older")).annotations[SPEC];
  assert.ok(spec !== undefined);
  // an older operator's ConfigMap: the spec record alone; the status still says how the job ended
  await setRecord("older", null);
  const deadline = Date.now() + 30_000;
  let backfilled = await recordOf("older");
  while (backfilled === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    backfilled = await recordOf("older");
  }
  assert.equal(backfilled?.reason, "DeadlineExceeded", "recorded from the status that reads");
  assert.equal(backfilled?.completionTime, failed.status?.completionTime);
  assert.equal((await configMap("older")).annotations[SPEC], spec, "the spec record stays");

  // and once more without it, the status removed too (a restore without status)
  let gone = "";
  await whileStopped(async () => {
    await setRecord("older", null);
    gone = await writeStatus("older", null);
  });
  const held = await waitForJob(
    w.world,
    "older",
    (j) => reads(j) && j.metadata!.resourceVersion !== gone && j.status?.phase === "Failed",
    "older held after its status and outcome record were lost",
  );
  const c = condition(held, "Failed");
  assert.equal(c?.reason, "OutcomeUnknown");
  assert.match(c?.message ?? "", /it is not started again/);
  assert.match(c?.message ?? "", /create a new job \(spec\.output\.resumeFrom\.job/);
  assert.equal(held.status?.startTime, undefined, "no start time is made up");
  assert.deepEqual(await server("older"), before, "the server is not scaled up again");
  assert.deepEqual(await podNames(w.world, "older"), [], "no client pod is made again");
  assert.equal(await recordOf("older"), undefined, "an unknown outcome is not recorded");
  const [event] = await eventsOf("older", "OutcomeUnknown");
  assert.equal(event?.type, "Warning");
  assert.match(
    event?.message ?? "",
    /^the stored status had no phase, but the job's ConfigMap .* records that it had finished/,
  );
});

test("a finished job whose spec no longer reads and whose status was removed gets its recorded outcome back, the spec problem in SpecRejected", async () => {
  const failed = await failedByDeadline("invalid-wiped");
  // installOlderCrd took the quorum-vs-fraction rule out of the CRD; zod still refuses such a spec
  await patchJobSpec(w.world, "invalid-wiped", { training: { quorum: { count: 3, fraction: null } } });
  await waitForJob(
    w.world,
    "invalid-wiped",
    (j) => condition(j, "SpecRejected")?.status === "True",
    "invalid-wiped's spec rejected",
  );
  const gone = await writeStatus("invalid-wiped", null);
  const back = await waitForJob(
    w.world,
    "invalid-wiped",
    (j) => reads(j) && j.metadata!.resourceVersion !== gone && j.status?.phase !== undefined,
    "invalid-wiped's status written after its removal",
  );
  assert.equal(back.status?.phase, "Failed");
  assert.deepEqual(
    condition(back, "Failed"),
    condition(failed, "Failed"),
    "the recorded outcome, not InvalidSpec",
  );
  assert.equal(back.status?.completionTime, failed.status?.completionTime);
  assert.equal(back.status?.startTime, failed.status?.startTime);
  const rejected = condition(back, "SpecRejected");
  assert.equal(rejected?.status, "True");
  assert.match(rejected?.message ?? "", /^spec\.training\.quorum\.count: is 3/);
  assert.equal(condition(back, "Running")?.status, "False");
  assert.deepEqual(await podNames(w.world, "invalid-wiped"), [], "no client pod is made again");
  const restored = (await eventsOf("invalid-wiped", "OutcomeRestored")).map((e) => e.message);
  assert.ok(
    restored.some((m) => m.startsWith("the stored status had no phase, but the job had failed at ")),
    restored.join("\n"),
  );

  // as an operator before this change left such a job: Failed with InvalidSpec, no completionTime
  const invalidAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const old = await writeStatus("invalid-wiped", {
    phase: "Failed",
    completionTime: null,
    conditions: [
      {
        type: "Failed",
        status: "True",
        reason: "InvalidSpec",
        message: "spec.training.quorum.count: is 3",
        lastTransitionTime: invalidAt,
      },
    ],
  });
  const again = await waitForJob(
    w.world,
    "invalid-wiped",
    (j) =>
      reads(j) && j.metadata!.resourceVersion !== old && condition(j, "Failed")?.reason !== "InvalidSpec",
    "invalid-wiped's InvalidSpec failure replaced by its recorded outcome",
  );
  assert.deepEqual(
    condition(again, "Failed"),
    condition(failed, "Failed"),
    "at the recorded time, not the InvalidSpec one's",
  );
  assert.equal(again.status?.completionTime, failed.status?.completionTime);
});

test("a succeeded job whose status and outcome record were both lost is Succeeded again once its event stream's job.finished reads, and recorded so", async () => {
  await createJob(w.world, jobManifest("done", { clients: { count: 1 }, training: { rounds: 1 } }));
  await waitForJob(w.world, "done", (j) => j.status?.phase === "Pending", "done Pending");
  const job = jobToken("default", "done");
  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, roundFinished(job, 1));
  const bytes = { up: 100, down: 100, byKind: {} };
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "job.finished",
    rounds: 1,
    loss: 1,
    accuracy: 0.5,
    bytes,
  });
  const done = await waitForJob(w.world, "done", (j) => j.status?.phase === "Succeeded", "done Succeeded");
  const before = await server("done");
  const pods = await podNames(w.world, "done");
  let gone = "";
  await whileStopped(async () => {
    await setRecord("done", null);
    gone = await writeStatus("done", null);
  });
  const back = await waitForJob(
    w.world,
    "done",
    (j) => reads(j) && j.metadata!.resourceVersion !== gone && j.status?.phase === "Succeeded",
    "done Succeeded again from its stream",
  );
  assert.equal(condition(back, "Succeeded")?.reason, "TrainingCompleted");
  assert.equal(condition(back, "Succeeded")?.message, condition(done, "Succeeded")?.message);
  assert.deepEqual(await server("done"), before, "the server is not scaled up again");
  assert.deepEqual(await podNames(w.world, "done"), pods, "no client pod is made again");
  // the reconcile that read it back records it, so the next loss needs no stream
  const record = await recordOf("done");
  assert.equal(record?.phase, "Succeeded");
  assert.equal(record?.reason, "TrainingCompleted");
});
