// What a finished job whose status was lost gets back besides its outcome, on a real kube-apiserver
// and nats-server: the ROUND column (status.round and status.progress) from its event stream, with a
// valid spec and with one that no longer reads (ADR 0034, amendment 6); its outcome recorded on its
// ConfigMap while its spec does not read, so a later loss gives it back (ADR 0023, amendment 25); and
// the FinishedSpecChangeIgnored answer to an edit made while the status was lost (ADR 0034, amendment 7);
// a job.failed compared with a held time at that time's precision (ADR 0023, amendment 27).
import assert from "node:assert/strict";
import { test } from "node:test";
import { jobToken } from "@sfprompt/api";
import { waitFor } from "@sfprompt/kube-testing";
import { ensureJobResources, publishEvent } from "@sfprompt/protocol";
import { childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { OUTCOME, reads, SPEC, failedAfterTwoRounds, finishedJobHelpers } from "./finished-jobs.js";
import { eventBase, roundFinished } from "./progress-events.js";
import { condition, createJob, merge, operatorWorldHooks, patchJobSpec, waitForJob } from "./harness.js";

// without the quorum-vs-fraction rule, so that a spec zod refuses can be stored
const w = operatorWorldHooks(installOlderCrd);
const { whileStopped, writeStatus, configMap, annotate, eventsOf } = finishedJobHelpers(w);

/** installOlderCrd took the quorum-vs-fraction rule out of the CRD; zod still refuses this spec. */
async function makeSpecInvalid(name: string): Promise<void> {
  await patchJobSpec(w.world, name, { training: { quorum: { count: 3, fraction: null } } });
  await waitForJob(
    w.world,
    name,
    // a finished job's spec is rejected in SpecRejected; a running job fails with InvalidSpec
    (j) =>
      condition(j, "SpecRejected")?.status === "True" || condition(j, "Failed")?.reason === "InvalidSpec",
    `${name}'s spec rejected`,
  );
}

test("a finished job whose status was removed gets its round and ROUND column back from its event stream", async () => {
  await failedAfterTwoRounds(w, "round-back");
  let gone = "";
  await whileStopped(async () => {
    gone = await writeStatus("round-back", null);
  });
  // the first write after the loss may come before the stream's replay (round 0): the replay's round
  // then replaces it
  const back = await waitForJob(
    w.world,
    "round-back",
    (j) => reads(j) && j.metadata!.resourceVersion !== gone && j.status?.round === 2,
    "round-back's round read back from its stream",
  );
  assert.equal(back.status?.phase, "Failed");
  assert.equal(back.status?.round, 2);
  assert.equal(back.status?.progress, "2/4");
});

test("a finished job whose spec no longer reads and whose status was removed gets its ROUND column back", async () => {
  await failedAfterTwoRounds(w, "round-invalid");
  await makeSpecInvalid("round-invalid");
  let gone = "";
  await whileStopped(async () => {
    gone = await writeStatus("round-invalid", null);
  });
  const back = await waitForJob(
    w.world,
    "round-invalid",
    (j) => reads(j) && j.metadata!.resourceVersion !== gone && j.status?.round === 2,
    "round-invalid's round read back from its stream while its spec is invalid",
    30_000,
  );
  assert.equal(back.status?.phase, "Failed");
  assert.equal(condition(back, "Failed")?.reason, "ModelNotFound");
  assert.equal(condition(back, "SpecRejected")?.status, "True");
  assert.equal(back.status?.round, 2);
  assert.equal(back.status?.rounds, 4);
  assert.equal(back.status?.progress, "2/4");
});

test("a finished job without an outcome record is recorded while its spec does not read, so a later status loss gives its outcome back", async () => {
  await createJob(
    w.world,
    jobManifest("record-invalid", { clients: { count: 1 }, activeDeadlineSeconds: 1 }),
  );
  const failed = await waitForJob(
    w.world,
    "record-invalid",
    (j) => condition(j, "Failed")?.reason === "DeadlineExceeded",
    "record-invalid to pass its deadline",
  );
  await makeSpecInvalid("record-invalid");
  const ran = await configMap("record-invalid");
  // an older operator's ConfigMap (no outcome record) while the job's spec does not read
  await whileStopped(() => annotate("record-invalid", { [OUTCOME]: null }));
  const recorded = await waitFor(
    async () => {
      const cm = await configMap("record-invalid");
      return cm.annotations[OUTCOME] !== undefined ? cm : undefined;
    },
    { timeoutMs: 60_000, description: "record-invalid's outcome recorded while its spec is invalid" },
  );
  const record = JSON.parse(recorded.annotations[OUTCOME]!) as Record<string, unknown>;
  assert.equal(record.phase, "Failed");
  assert.equal(record.reason, "DeadlineExceeded");
  assert.equal(record.completionTime, failed.status?.completionTime);
  assert.equal(recorded.annotations[SPEC], ran.annotations[SPEC], "the spec record as it was");
  assert.equal(recorded.runConfig, ran.runConfig, "the run config the job ran with");
  // the operator's own decision is on no event stream: only the record gives it back
  let gone = "";
  await whileStopped(async () => {
    gone = await writeStatus("record-invalid", null);
  });
  const back = await waitForJob(
    w.world,
    "record-invalid",
    (j) => reads(j) && j.metadata!.resourceVersion !== gone && j.status?.phase !== undefined,
    "record-invalid's status written again",
  );
  assert.equal(back.status?.phase, "Failed");
  assert.equal(condition(back, "Failed")?.reason, "DeadlineExceeded");
  assert.equal(back.status?.completionTime, failed.status?.completionTime);
  // one edited into something that does not read is written again as well, and the Warning says so
  await annotate("record-invalid", { [OUTCOME]: "{not json" });
  await waitFor(
    async () => (await configMap("record-invalid")).annotations[OUTCOME] === recorded.annotations[OUTCOME],
    { timeoutMs: 30_000, description: "record-invalid's garbled outcome record written again" },
  );
  // the record is applied before the event is sent, in the same reconcile: wait for the event
  const [unreadable] = await waitFor(
    async () => {
      const events = await eventsOf("record-invalid", "FinishedRecordUnreadable");
      return events.length > 0 ? events : undefined;
    },
    { timeoutMs: 30_000, description: "record-invalid's garbled record reported" },
  );
  assert.match(
    unreadable?.message ?? "",
    /the outcome record is written again from what the job's status says \(Failed, DeadlineExceeded\)/,
  );
  assert.doesNotMatch(unreadable?.message ?? "", /once the spec is valid/);
});

test("a job failed only by its invalid spec gets no outcome record: a fixed spec lets it carry on", async () => {
  await createJob(w.world, jobManifest("invalid-only", { clients: { count: 1 } }));
  await waitForJob(w.world, "invalid-only", (j) => j.status?.phase === "Pending", "invalid-only Pending");
  await makeSpecInvalid("invalid-only");
  const failed = await waitForJob(
    w.world,
    "invalid-only",
    (j) => condition(j, "Failed")?.reason === "InvalidSpec",
    "invalid-only Failed with InvalidSpec",
  );
  assert.equal(failed.status?.phase, "Failed");
  const cm = await configMap("invalid-only");
  assert.equal(cm.annotations[OUTCOME], undefined);
  assert.equal(cm.annotations[SPEC], undefined);
  await patchJobSpec(w.world, "invalid-only", { training: { quorum: { count: 1 } } });
  await waitForJob(
    w.world,
    "invalid-only",
    (j) => j.status?.phase === "Pending",
    "invalid-only Pending again",
  );
});

test("an edit made while a finished job's status was lost is answered with FinishedSpecChangeIgnored", async () => {
  await createJob(
    w.world,
    jobManifest("edit-lost", { clients: { count: 1 }, activeDeadlineSeconds: 1, training: { rounds: 3 } }),
  );
  await waitForJob(
    w.world,
    "edit-lost",
    (j) => condition(j, "Failed")?.reason === "DeadlineExceeded",
    "edit-lost to pass its deadline",
  );
  let gone = "";
  await whileStopped(async () => {
    await patchJobSpec(w.world, "edit-lost", {
      training: { rounds: 7 },
      clients: { nodeSelector: { zone: "b" } },
    });
    gone = await writeStatus("edit-lost", null);
  });
  await waitForJob(
    w.world,
    "edit-lost",
    (j) => reads(j) && j.metadata!.resourceVersion !== gone && j.status?.phase === "Failed",
    "edit-lost's status written again",
  );
  const [event] = await waitFor(
    async () => {
      const events = await eventsOf("edit-lost", "FinishedSpecChangeIgnored");
      return events.length > 0 ? events : undefined;
    },
    { timeoutMs: 30_000, description: "edit-lost's edit answered" },
  );
  assert.equal(event?.type, "Warning");
  assert.match(event?.message ?? "", /spec\.training\.rounds 3 → 7/);
  assert.match(event?.message ?? "", /spec\.clients\.nodeSelector/);
  assert.match(event?.message ?? "", /status\.rounds stays 3/);
});

test("a job held as OutcomeUnknown at a time with milliseconds keeps it against a job.failed stamped later in the same second", async () => {
  await createJob(w.world, jobManifest("held-ms", { clients: { count: 1 }, activeDeadlineSeconds: 1 }));
  await waitForJob(
    w.world,
    "held-ms",
    (j) => condition(j, "Failed")?.reason === "DeadlineExceeded",
    "held-ms to pass its deadline",
  );
  let gone = "";
  await whileStopped(async () => {
    await annotate("held-ms", { [OUTCOME]: null });
    // no managedFields (stripped as the API documents it): the operator's last write has no time, so
    // the job is held at the time of the reconcile, to the millisecond (ADR 0023, amendment 23)
    await w.world.core.patchNamespacedConfigMap(
      {
        name: childNames("held-ms").configMap,
        namespace: "default",
        body: { metadata: { managedFields: [{}] } },
      },
      merge,
    );
    gone = await writeStatus("held-ms", null);
  });
  const held = await waitForJob(
    w.world,
    "held-ms",
    (j) =>
      reads(j) && j.metadata!.resourceVersion !== gone && condition(j, "Failed")?.reason === "OutcomeUnknown",
    "held-ms held as OutcomeUnknown",
  );
  const cm = await w.world.core.readNamespacedConfigMap({
    name: childNames("held-ms").configMap,
    namespace: "default",
  });
  assert.ok(
    !(cm.metadata?.managedFields ?? []).some((f) => f.manager === "sfprompt-operator"),
    "no time of the operator's write is left",
  );
  const heldAt = String(held.status?.completionTime);
  const heldMs = Date.parse(heldAt);
  // a job.failed 1 ms after it was held: not the failure that ended the job (its server is stopped)
  const token = jobToken("default", "held-ms");
  await ensureJobResources(w.nc, token);
  await publishEvent(w.nc, {
    ...eventBase(token),
    at: new Date(heldMs + 1).toISOString(),
    type: "job.failed",
    reason: "ModelNotFound",
    message: "no model",
  });
  // folded after the job.failed: once its loss is in the status, so was the job.failed
  await publishEvent(w.nc, roundFinished(token, 1));
  const after = await waitForJob(
    w.world,
    "held-ms",
    (j) => (j.status?.metrics as { loss?: number } | undefined)?.loss === 1,
    "held-ms's stream replayed",
    30_000,
  );
  // a held time of whole seconds (1 in 1000 here) reads as the managedFields' and is compared to the second
  const expected = heldMs % 1000 === 0 ? "ModelNotFound" : "OutcomeUnknown";
  assert.equal(condition(after, "Failed")?.reason, expected, `held at ${heldAt}`);
  assert.equal(after.status?.completionTime, heldAt);
});
