// Which client pods a finished job keeps (ADR 0012, amendment 2): a table over the job's outcome, the
// pods' phases and the time since the job finished, through the pure function and desiredChildren;
// then what status.clients says of a client whose pod was deleted.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import type { ClientStatus, SFPromptJob, Status } from "@sfprompt/api";
import { desiredChildren } from "../../src/desired/children.js";
import { finishedClientPods } from "../../src/desired/finished-clients.js";
import { planClients } from "../../src/desired/restart-plan.js";
import { DEFAULT_CHILD_SETTINGS } from "../../src/desired/settings.js";
import { LABEL_CLIENT_INDEX } from "../../src/names.js";
import { computeStatus } from "../../src/status/compute-status.js";
import type { Lifecycle, TerminalPhase } from "../../src/status/lifecycle.js";
import { job, refOf } from "../fixtures.js";

const GRACE_MS = 30_000;
const FINISHED_AT = "2026-01-01T00:00:00.000Z";

function pod(index: number, phase: string): V1Pod {
  return {
    metadata: { name: `j-client-${index}`, labels: { [LABEL_CLIENT_INDEX]: String(index) } },
    spec: { containers: [], nodeName: "edge-0" },
    status: { phase },
  };
}

/** A job that ended `phase` with the condition reason `reason` (TrainingCompleted when Succeeded). */
function finished(phase: TerminalPhase, reason = "TrainingCompleted"): Lifecycle {
  return {
    suspended: false,
    expired: false,
    terminal: { phase, reason, message: "" },
    completionTime: FINISHED_AT,
  };
}

const after = (ms: number): Date => new Date(Date.parse(FINISHED_AT) + ms);

const cases: {
  name: string;
  outcome: TerminalPhase;
  /** The terminal condition's reason (TrainingCompleted when unset). */
  reason?: string;
  phases: string[];
  afterMs: number;
  /** Plan the clients at that time too, when a Failed pod's restart backoff is over (else at 0). */
  backoffOver?: boolean;
  keep: string[];
  recheckAfterMs?: number;
}[] = [
  {
    name: "a Succeeded job keeps its running pods during the grace, rechecking when it ends",
    outcome: "Succeeded",
    phases: ["Running", "Succeeded"],
    afterMs: 10_000,
    keep: ["j-client-0", "j-client-1"],
    recheckAfterMs: 20_000,
  },
  {
    name: "a Succeeded job keeps only its finished pods once the grace is over",
    outcome: "Succeeded",
    phases: ["Running", "Succeeded", "Failed"],
    afterMs: 30_000,
    keep: ["j-client-1", "j-client-2"],
  },
  {
    name: "a Succeeded job whose pods all finished needs no recheck",
    outcome: "Succeeded",
    phases: ["Succeeded", "Succeeded"],
    afterMs: 1_000,
    keep: ["j-client-0", "j-client-1"],
  },
  {
    name: "a job its server failed (job.failed) keeps its running pods during the grace: its clients heard of the end",
    outcome: "Failed",
    reason: "ModelNotFoundError",
    phases: ["Running", "Pending", "Failed"],
    afterMs: 1_000,
    keep: ["j-client-0", "j-client-1", "j-client-2"],
    recheckAfterMs: 29_000,
  },
  {
    name: "a job its server failed with a reason a condition cannot hold (TrainingFailed) also gets the grace",
    outcome: "Failed",
    reason: "TrainingFailed",
    phases: ["Running"],
    afterMs: 0,
    keep: ["j-client-0"],
    recheckAfterMs: 30_000,
  },
  {
    name: "a job its server failed keeps only its finished pods once the grace is over",
    outcome: "Failed",
    reason: "ModelNotFoundError",
    phases: ["Running", "Failed"],
    afterMs: 30_000,
    keep: ["j-client-1"],
  },
  {
    name: "a job its server failed keeps a client's Failed pod once its restart backoff is over: a finished job replaces none",
    outcome: "Failed",
    reason: "ModelNotFoundError",
    phases: ["Failed", "Running"],
    afterMs: 1_000,
    backoffOver: true,
    keep: ["j-client-0", "j-client-1"],
    recheckAfterMs: 29_000,
  },
  {
    name: "a job the operator failed past its deadline gets no grace: its clients are not told of the end",
    outcome: "Failed",
    reason: "DeadlineExceeded",
    phases: ["Running", "Pending", "Failed"],
    afterMs: 0,
    keep: ["j-client-2"],
  },
  {
    name: "a job whose failure reason was lost (FailureReasonLost) gets the grace: its clients may have been told",
    outcome: "Failed",
    reason: "FailureReasonLost",
    phases: ["Running", "Failed"],
    afterMs: 1_000,
    keep: ["j-client-0", "j-client-1"],
    recheckAfterMs: 29_000,
  },
  {
    name: "a job the operator failed for lost clients gets no grace either",
    outcome: "Failed",
    reason: "ClientsFailed",
    phases: ["Running", "Failed"],
    afterMs: 1_000,
    keep: ["j-client-1"],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const pods = c.phases.map((p, i) => pod(i, p));
    const now = after(c.afterMs);
    const planAt = c.backoffOver ? now.getTime() : 0;
    const plans = planClients(c.phases.length, pods, DEFAULT_CHILD_SETTINGS.clientRestart, planAt);
    const want =
      c.recheckAfterMs !== undefined ? { keep: c.keep, recheckAfterMs: c.recheckAfterMs } : { keep: c.keep };
    const lifecycle = finished(c.outcome, c.reason);
    assert.deepEqual(finishedClientPods(plans, lifecycle, GRACE_MS, now), want);
    const j = job("j", { clients: { count: c.phases.length } });
    const children = desiredChildren({
      job: j,
      ref: refOf(j),
      settings: { ...DEFAULT_CHILD_SETTINGS, finishedClientGraceMs: GRACE_MS },
      jobKey: "a".repeat(64),
      lifecycle,
      plans,
      now,
    });
    assert.deepEqual(
      children.keep.filter((k) => k.kind === "Pod").map((k) => k.name),
      c.keep,
    );
    assert.equal(children.recheckAfterMs, c.recheckAfterMs);
    assert.equal(
      children.apply.filter((o) => o.kind === "Pod").length,
      0,
      "a finished job makes no client pod",
    );
  });
}

// status.clients of a finished job: a client whose pod was deleted (gone, or being deleted) before it
// was seen to finish is Unknown, never Running; one seen to finish keeps its phase.
const previousClients: ClientStatus[] = [
  { index: 0, phase: "Running", state: "done", restarts: 0, pod: "j-client-0", node: "edge-0" },
  { index: 1, phase: "Succeeded", state: "done", restarts: 0, pod: "j-client-1", node: "edge-0" },
];

const terminating = (p: V1Pod): V1Pod => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: after(1) } });

const statusCases: {
  name: string;
  outcome: TerminalPhase;
  /** The terminal condition's reason (TrainingCompleted when unset). */
  ended?: string;
  pods: V1Pod[];
  phases: string[];
  reason: RegExp;
  /** What ClientsReady (JobFinished) says happens to the pods. */
  clientsReady: RegExp;
}[] = [
  {
    name: "a Succeeded job's client whose pod is gone after it reported done is Unknown, not Running",
    outcome: "Succeeded",
    pods: [],
    phases: ["Unknown", "Succeeded"],
    reason: /^pod j-client-0 was deleted after the job succeeded, before it exited \(last state done\)/,
    clientsReady: /^the job succeeded: its clients exit by themselves; .* the operator's grace/,
  },
  {
    name: "a client of a job its server failed whose pod is being deleted after the grace is Unknown, not Running",
    outcome: "Failed",
    ended: "ModelNotFoundError",
    pods: [terminating(pod(0, "Running"))],
    phases: ["Unknown", "Succeeded"],
    reason: /^pod j-client-0 was deleted after the job failed, before it exited/,
    clientsReady: /^the job failed on its server, which told its clients: they exit by themselves; .* grace/,
  },
  {
    name: "a client of a job the operator failed whose pod is being deleted at once is Unknown, not Running",
    outcome: "Failed",
    ended: "DeadlineExceeded",
    pods: [terminating(pod(0, "Running"))],
    phases: ["Unknown", "Succeeded"],
    reason: /^pod j-client-0 was deleted after the job failed, before it exited/,
    clientsReady: /^the job failed by the operator's decision \(DeadlineExceeded\), .* deleted at once/,
  },
  {
    name: "a client of a job whose failure reason was lost, its pod being deleted after the grace, is Unknown; ClientsReady says it is not known whether the clients were told",
    outcome: "Failed",
    ended: "FailureReasonLost",
    pods: [terminating(pod(0, "Running"))],
    phases: ["Unknown", "Succeeded"],
    reason: /^pod j-client-0 was deleted after the job failed, before it exited/,
    clientsReady:
      /^the job failed, and why is lost \(FailureReasonLost\), so whether its server told its clients \(they then exit by themselves\) or the operator failed it \(they are not told\) is not known: client pods that have not exited when the operator's grace/,
  },
];

for (const c of statusCases) {
  test(c.name, () => {
    const previous: Status = {
      phase: c.outcome,
      conditions: [],
      clients: previousClients,
      completionTime: FINISHED_AT,
    };
    const j: SFPromptJob = { ...job("j", { clients: { count: 2 } }), status: previous };
    const plans = planClients(2, c.pods, DEFAULT_CHILD_SETTINGS.clientRestart, 0, previousClients);
    const status = computeStatus({
      job: j,
      lifecycle: finished(c.outcome, c.ended),
      deployment: undefined,
      plans,
      progress: undefined,
      now: after(GRACE_MS),
    });
    const clients = (status.clients ?? []) as ClientStatus[];
    assert.deepEqual(
      clients.map((x) => x.phase),
      c.phases,
    );
    assert.match(clients[0]?.reason ?? "", c.reason);
    const ready = status.conditions?.find((x) => x.type === "ClientsReady");
    assert.deepEqual([ready?.status, ready?.reason], ["False", "JobFinished"]);
    assert.match(ready?.message ?? "", c.clientsReady);
    assert.deepEqual(
      [clients[0]?.pod, clients[0]?.node, clients[0]?.state],
      ["j-client-0", "edge-0", "done"],
    );
  });
}

// A finished job starts no replacement, so a client's Failed pod is that client's end whenever the
// operator first sees it: past the pod's restart backoff the plan has moved on to the next attempt
// (no pod), which read as a pod deleted before it exited (Unknown, "running").
test("a client of a job its server failed whose Failed pod is first seen after its restart backoff is Failed, naming its pod, not Unknown", () => {
  const terminated = { exitCode: 1, reason: "Error", finishedAt: new Date(FINISHED_AT) };
  const failed: V1Pod = {
    ...pod(0, "Failed"),
    status: {
      phase: "Failed",
      containerStatuses: [
        { name: "client", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated } },
      ],
    },
  };
  const running: ClientStatus[] = [
    { index: 0, phase: "Running", state: "running", restarts: 0, pod: "j-client-0", node: "edge-0" },
  ];
  const previous: Status = { phase: "Failed", conditions: [], clients: running, completionTime: FINISHED_AT };
  const now = after(60_000);
  const plans = planClients(1, [failed], DEFAULT_CHILD_SETTINGS.clientRestart, now.getTime(), running);
  assert.equal(plans[0]?.replaces, failed, "the backoff is over: the plan names the pod it would replace");
  const status = computeStatus({
    job: { ...job("j", { clients: { count: 1 } }), status: previous },
    lifecycle: finished("Failed", "ModelNotFoundError"),
    deployment: undefined,
    plans,
    progress: undefined,
    now,
  });
  const c = (status.clients ?? [])[0] as ClientStatus | undefined;
  assert.deepEqual(
    [c?.phase, c?.state, c?.reason, c?.pod, c?.node, c?.restarts],
    ["Failed", "failed", "Error (exit code 1)", "j-client-0", "edge-0", 0],
  );
});
