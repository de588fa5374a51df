// A finished job's outcome after its status lost it, on a real kube-apiserver: the operator records how
// the job finished on its ConfigMap as it finishes, and gives it back from there, its own decisions
// (DeadlineExceeded) included, which no event stream holds: a status removed whole (a restore without
// it) or rewritten to Running (a stale writer) is Failed again with its reason, message and times, and
// nothing is started again; a Failed condition that no longer reads (stored under the older CRD) gets
// its reason instead of FailureReasonLost. Events say what was read back (ADR 0023, amendment 18).
import assert from "node:assert/strict";
import { test } from "node:test";
import { childNames } from "../../src/names.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { patchStatusUnderOlderCrd } from "../status-under-older-crd.js";
import { finishedJobHelpers } from "./finished-jobs.js";
import { condition, podNames, worldHooks, type JobObject } from "./harness.js";

const w = worldHooks(installOlderCrd);

const {
  writeStatus,
  rewritten,
  failedByDeadline,
  eventsOf,
  server: serverGeneration,
} = finishedJobHelpers(w);

/** What must come back: the phase, the Failed condition whole and the times. */
const outcome = (j: JobObject): unknown => ({
  phase: j.status?.phase,
  failed: condition(j, "Failed"),
  startTime: j.status?.startTime,
  completionTime: j.status?.completionTime,
});

test("a Failed job's status removed whole, then rewritten to Running, is Failed again with the operator's own reason, message and times, and nothing starts again", async () => {
  const failed = await failedByDeadline("wiped");
  const server = await serverGeneration("wiped");
  assert.equal(server.replicas, 0);

  const gone = await writeStatus("wiped", null);
  const restored = await rewritten("wiped", gone, "its removal", "Failed");
  assert.deepEqual(outcome(restored), outcome(failed));
  assert.deepEqual(await serverGeneration("wiped"), server, "the server is not scaled up again");
  assert.deepEqual(await podNames(w.world, "wiped"), [], "no client pod is made again");
  const [restoredEvent] = await eventsOf("wiped", "OutcomeRestored");
  assert.equal(restoredEvent?.type, "Warning");
  assert.match(restoredEvent?.message ?? "", /^the stored status had no phase, but the job had failed at /);
  assert.ok(
    restoredEvent?.message.includes(`DeadlineExceeded: ${condition(failed, "Failed")?.message}`),
    restoredEvent?.message,
  );

  const stale = await writeStatus("wiped", { phase: "Running", conditions: [], completionTime: null });
  const again = await rewritten("wiped", stale, "a stale write of Running", "Failed");
  assert.deepEqual(outcome(again), outcome(failed));
  assert.deepEqual(await serverGeneration("wiped"), server, "the server is not scaled up again");
  assert.deepEqual(await podNames(w.world, "wiped"), [], "no client pod is made again");
  const messages = (await eventsOf("wiped", "OutcomeRestored")).map((e) => e.message);
  assert.ok(
    messages.some((m) => m.startsWith("the stored status said phase Running, but the job had failed at ")),
    messages.join("\n"),
  );
});

test("a Failed condition that no longer reads gets the operator's own reason back, not FailureReasonLost, and an event says from where", async () => {
  const failed = await failedByDeadline("unread");
  // the Failed condition gone and another's time unreadable: the stored conditions do not read, and
  // nothing of the Failed one is left to read (ADR 0023, amendment 9's FailureReasonLost)
  const spoiled = (failed.status?.conditions ?? [])
    .filter((c) => c.type !== "Failed")
    .map((c) => (c.type === "Running" ? { ...c, lastTransitionTime: "2026-01-01T00:00:00+99:99" } : c));
  const version = await patchStatusUnderOlderCrd(
    w.world.cp.kubeconfigPath,
    { namespace: "default", name: "unread" },
    { conditions: spoiled },
  );
  const fixed = await rewritten("unread", version, "its Failed condition was lost", "Failed");
  assert.deepEqual(outcome(fixed), outcome(failed));
  const events = await eventsOf("unread", "FailureReasonReadBack");
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.equal(events[0]!.type, "Normal");
  assert.equal(
    events[0]!.message,
    `the reason the job failed, lost with its stored status (FailureReasonLost), is read back from the job's ConfigMap ${childNames("unread").configMap} (annotation sfprompt.io/finished-outcome, written as the job finished): DeadlineExceeded: ${condition(failed, "Failed")?.message}`,
  );
  assert.equal((await eventsOf("unread", "OutcomeRestored")).length, 0, "the phase was not lost");
});
