// A finished job whose status was lost is held finished whatever else was lost with it, on a real
// kube-apiserver and nats-server (ADR 0023, amendment 22): a `finished-spec` record edited into
// something that does not read still says the job finished (it is written only as a job finishes), so
// the job is not started again: its outcome comes from the outcome record where that reads, else it is
// held Failed/OutcomeUnknown; the ConfigMap keeps the run config the job ran with and gets a spec
// record that reads again, and a Warning names the annotation. A held job's completionTime is the
// operator's last write of its ConfigMap (amendment 23), and one whose spec no longer reads gets its
// outcome back from its event stream too (amendment 24).
import assert from "node:assert/strict";
import { test } from "node:test";
import { jobToken } from "@sfprompt/api";
import { ensureJobResources, publishEvent } from "@sfprompt/protocol";
import { childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { OUTCOME, reads, SPEC, finishedJobHelpers } from "./finished-jobs.js";
import { eventBase } from "./progress-events.js";
import { condition, createJob, operatorWorldHooks, patchJobSpec, podNames, waitForJob } from "./harness.js";

// without the quorum-vs-fraction rule, so that a spec zod refuses can be stored
const w = operatorWorldHooks(installOlderCrd);
const { whileStopped, writeStatus, rewritten, failedByDeadline, configMap, annotate, eventsOf, server } =
  finishedJobHelpers(w);

/** Whether the annotation reads as JSON with a `fields` object, as the operator writes the spec record. */
const specRecordReads = (text: string | undefined): boolean => {
  try {
    const v = JSON.parse(text ?? "") as { fields?: unknown };
    return typeof v.fields === "object" && v.fields !== null;
  } catch {
    return false;
  }
};

test("an unreadable finished-spec and no outcome record: the job whose status was lost is held Failed/OutcomeUnknown, not started again", async () => {
  await failedByDeadline("garbled");
  const before = await server("garbled");
  let gone = "";
  await whileStopped(async () => {
    // an older operator's ConfigMap (no outcome record), its spec record then edited by hand
    await annotate("garbled", { [SPEC]: "{not json", [OUTCOME]: null });
    gone = await writeStatus("garbled", null);
  });
  const held = await rewritten("garbled", gone, "its status and records were lost");
  assert.equal(held.status?.phase, "Failed");
  assert.equal(condition(held, "Failed")?.reason, "OutcomeUnknown");
  assert.equal(held.status?.startTime, undefined, "no start time is made up");
  assert.deepEqual(await server("garbled"), before, "the server is not scaled up again");
  assert.deepEqual(await podNames(w.world, "garbled"), [], "no client pod is made again");
  const [event] = await eventsOf("garbled", "FinishedRecordUnreadable");
  assert.equal(event?.type, "Warning");
  assert.match(event?.message ?? "", /annotation sfprompt\.io\/finished-spec/);
  assert.match(event?.message ?? "", new RegExp(`ConfigMap ${childNames("garbled").configMap}`));
  assert.match(event?.message ?? "", /not started again/);
  const cm = await configMap("garbled");
  assert.ok(specRecordReads(cm.annotations[SPEC]), `the spec record reads again: ${cm.annotations[SPEC]}`);
  assert.equal(cm.annotations[OUTCOME], undefined, "an unknown outcome is not recorded");
});

test("an unreadable finished-spec with an outcome record that reads: the recorded outcome comes back, and the run config and server stay as the job ran", async () => {
  const failed = await failedByDeadline("garbled-spec", { training: { rounds: 3 } });
  const before = await server("garbled-spec");
  const ran = (await configMap("garbled-spec")).runConfig;
  let gone = "";
  await whileStopped(async () => {
    await patchJobSpec(w.world, "garbled-spec", { training: { rounds: 7 } });
    await annotate("garbled-spec", { [SPEC]: '{"generation":"one"}' });
    gone = await writeStatus("garbled-spec", null);
  });
  const back = await rewritten("garbled-spec", gone, "its status was removed");
  assert.equal(back.status?.phase, "Failed");
  // observed at the edited generation (a valid spec's reconcile observes it); the rest as recorded
  const withoutGeneration = (c: ReturnType<typeof condition>): Record<string, unknown> => {
    const { observedGeneration: _g, ...rest } = (c ?? {}) as Record<string, unknown>;
    return rest;
  };
  assert.deepEqual(
    withoutGeneration(condition(back, "Failed")),
    withoutGeneration(condition(failed, "Failed")),
    "the recorded outcome",
  );
  assert.equal(back.status?.completionTime, failed.status?.completionTime);
  assert.deepEqual(await server("garbled-spec"), before, "the server keeps the revision it ran");
  assert.deepEqual(await podNames(w.world, "garbled-spec"), [], "no client pod is made again");
  const cm = await configMap("garbled-spec");
  assert.equal(cm.runConfig, ran, "the run config the job ran with, not the edited spec's");
  assert.ok(specRecordReads(cm.annotations[SPEC]), `the spec record reads again: ${cm.annotations[SPEC]}`);
  const [event] = await eventsOf("garbled-spec", "FinishedRecordUnreadable");
  assert.match(event?.message ?? "", /annotation sfprompt\.io\/finished-spec/);
});

/** The time of the operator's own last write of the job's ConfigMap (its server-side apply's managedFields entry). */
async function operatorWroteConfigMapAt(name: string): Promise<string | undefined> {
  const cm = await w.world.core.readNamespacedConfigMap({
    name: childNames(name).configMap,
    namespace: "default",
  });
  const entry = cm.metadata?.managedFields?.find(
    (f) => f.manager === "sfprompt-operator" && f.operation === "Apply",
  );
  return entry?.time === undefined ? undefined : new Date(entry.time).toISOString();
}

test("a job held as OutcomeUnknown takes its completionTime from the operator's last write of its ConfigMap, not from when it was held", async () => {
  const failed = await failedByDeadline("held-time");
  const wrote =
    (await operatorWroteConfigMapAt("held-time")) ??
    assert.fail("the operator applied the ConfigMap as the job finished");
  const finishedMs = Date.parse(String(failed.status?.completionTime));
  // the record's apply follows the decision in the same reconcile, and managedFields keep whole
  // seconds: at most 1 s before completionTime, the create's write (a 1 s deadline earlier) more. No
  // upper bound: how long after the decision the apply lands is up to a loaded machine.
  assert.ok(Date.parse(wrote) > finishedMs - 1000, `${wrote} vs ${failed.status?.completionTime}`);
  // the status lost well after that, so that a completionTime of "now" cannot pass for it
  await new Promise((r) => setTimeout(r, 2500));
  let gone = "";
  let lostAt = 0;
  await whileStopped(async () => {
    await annotate("held-time", { [OUTCOME]: null });
    lostAt = Date.now();
    gone = await writeStatus("held-time", null);
  });
  assert.equal(await operatorWroteConfigMapAt("held-time"), wrote, "another writer's edit leaves the time");
  const held = await rewritten("held-time", gone, "its status and outcome record were lost");
  assert.equal(condition(held, "Failed")?.reason, "OutcomeUnknown");
  assert.equal(held.status?.completionTime, wrote);
  assert.ok(Date.parse(String(held.status?.completionTime)) < lostAt);
  assert.equal(condition(held, "Failed")?.lastTransitionTime, held.status?.completionTime);
  assert.match(condition(held, "Failed")?.message ?? "", /completionTime is when the operator last wrote/);
  // the event says where this job's time came from: the ConfigMap's managedFields (ADR 0023, amendment 26)
  const [unknown] = await eventsOf("held-time", "OutcomeUnknown");
  assert.ok(
    unknown?.message.includes(
      `its completionTime ${wrote} is when the operator last wrote that ConfigMap (the time of its server-side apply in the ConfigMap's metadata.managedFields`,
    ),
    unknown?.message,
  );
});

test("a finished job whose spec no longer reads, held as OutcomeUnknown, gets the server's reason back from its event stream", async () => {
  await createJob(w.world, jobManifest("invalid-held", { clients: { count: 1 } }));
  await waitForJob(w.world, "invalid-held", (j) => j.status?.phase === "Pending", "invalid-held Pending");
  const token = jobToken("default", "invalid-held");
  await ensureJobResources(w.nc, token);
  await publishEvent(w.nc, {
    ...eventBase(token),
    type: "job.failed",
    reason: "ModelNotFound",
    message: "no model",
  });
  const failed = await waitForJob(w.world, "invalid-held", (j) => j.status?.phase === "Failed", "Failed");
  assert.equal(condition(failed, "Failed")?.reason, "ModelNotFound");
  const before = await server("invalid-held");
  const pods = await podNames(w.world, "invalid-held");
  // installOlderCrd took the quorum-vs-fraction rule out of the CRD; zod still refuses such a spec
  await patchJobSpec(w.world, "invalid-held", { training: { quorum: { count: 3, fraction: null } } });
  await waitForJob(
    w.world,
    "invalid-held",
    (j) => condition(j, "SpecRejected")?.status === "True",
    "invalid-held's spec rejected",
  );
  // an older operator's ConfigMap (no outcome record), the status then lost
  let gone = "";
  await whileStopped(async () => {
    await annotate("invalid-held", { [OUTCOME]: null });
    gone = await writeStatus("invalid-held", null);
  });
  const back = await waitForJob(
    w.world,
    "invalid-held",
    (j) =>
      reads(j) && j.metadata!.resourceVersion !== gone && condition(j, "Failed")?.reason === "ModelNotFound",
    "invalid-held's reason read back from its stream while its spec is invalid",
    30_000,
  );
  assert.equal(back.status?.phase, "Failed");
  // the rounds it ran with, from its kept run config, as a valid spec's status gets them (ADR 0034
  // amendment 4): the spec that does not read gives none
  assert.equal(back.status?.rounds, failed.status?.rounds);
  assert.equal(condition(back, "Failed")?.message, condition(failed, "Failed")?.message);
  assert.equal(condition(back, "SpecRejected")?.status, "True");
  assert.match(condition(back, "SpecRejected")?.message ?? "", /^spec\.training\.quorum\.count: is 3/);
  assert.equal(condition(back, "Running")?.status, "False");
  assert.deepEqual(await server("invalid-held"), before, "the server is not scaled up again");
  assert.deepEqual(await podNames(w.world, "invalid-held"), pods, "no client pod is made again");
  const said = [
    ...(await eventsOf("invalid-held", "FailureReasonReadBack")),
    ...(await eventsOf("invalid-held", "OutcomeRestored")),
  ].map((e) => e.message);
  assert.ok(
    said.some((m) => m.includes("its server's job.failed on the job's event stream")),
    said.join("\n"),
  );
});

test("a finished job whose status was removed after a rounds edit reports the rounds it ran with, from its kept run config", async () => {
  await failedByDeadline("rounds-kept", { training: { rounds: 3 } });
  let gone = "";
  await whileStopped(async () => {
    await patchJobSpec(w.world, "rounds-kept", { training: { rounds: 7 } });
    gone = await writeStatus("rounds-kept", null);
  });
  const back = await rewritten("rounds-kept", gone, "its status was removed");
  assert.equal(back.status?.phase, "Failed");
  assert.equal(back.status?.rounds, 3);
  assert.equal(back.status?.progress, "0/3");
});
