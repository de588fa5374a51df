// The reconcile of a job whose spec does not read: it is Failed with InvalidSpec, or, finished, keeps
// how it finished (read back from its ConfigMap's records and its event stream where the status lost
// it) with the spec's problem in SpecRejected; nothing is applied (ADR 0023, amendments 9, 17, 21, 24).
import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import { jobToken, type Status } from "@sfprompt/api";
import { renderedRounds } from "../desired/config-map.js";
import { finishedRecords } from "../desired/finished-records.js";
import { recordedOutcome } from "../desired/outcome-record.js";
import { recordedSpec } from "../desired/spec-record.js";
import { childNames, jobKey } from "../names.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { SPEC_REJECTED } from "../status/checkpoint-rounds.js";
import { upsertConditions, type ConditionUpdate } from "../status/conditions.js";
import { heldFields, withHeldFields } from "../status/held-fields.js";
import { INVALID_SPEC, keptTerminal, streamReadBack, type Terminal } from "../status/lifecycle.js";
import { statusMessage } from "../status/status-message.js";
import { statusPatch } from "../status/status-patch.js";
import { readStoredStatus, usableStatus } from "../status/stored-status.js";
import type { ReconcileDeps, ReconcileResult } from "./deps.js";
import { rawNatsUrl, rawResumeFrom } from "./invalid-read-back.js";
import { observed, repairedFrom } from "./observed.js";
import { readBackEvent } from "./transition-events.js";
import { unreadableRecordEvent } from "./unreadable-record.js";

export async function reportInvalid(
  deps: ReconcileDeps,
  raw: KubernetesObject,
  message: string,
): Promise<ReconcileResult> {
  const m = raw.metadata!;
  const involved = { namespace: m.namespace!, name: m.name!, uid: m.uid! };
  const stored = (raw as { status?: unknown }).status;
  const read = readStoredStatus(raw);
  const rejected = read.readable ? [] : read.rejected;
  const now = deps.now();
  const base = { stored, previous: usableStatus(read), rejected };
  const seen = observed(deps, involved);
  const repaired = repairedFrom(seen, involved.name, base, now);
  // A finished job keeps its outcome: a rule added after it ran (an operator upgrade) or a later edit
  // does not turn a Succeeded job into a Failed one. SpecRejected says what is wrong, and the write
  // repairs a stored status that does not read (ADR 0023, amendment 9); nothing is restarted. One whose
  // status lost how it finished gets it back from its ConfigMap's records, as with a valid spec (ADR
  // 0023, amendments 18 and 21): the job's own end, not InvalidSpec, is its outcome.
  const records = finishedRecords(seen.configMap);
  const recorded = keptTerminal(repaired, records.outcome, records.finished);
  // a lost reason or outcome is read back from the job's event stream as with a valid spec: the stream
  // needs only the job's name (ADR 0023, amendment 24)
  const progress = recorded.terminal ? followedStream(deps, raw) : undefined;
  const kept = streamReadBack(recorded, {
    previous: repaired,
    progress,
    recorded: records.outcome,
    resumeFrom: rawResumeFrom(raw),
  });
  const previous = kept.readBack
    ? restoredStatus(repaired, kept.terminal!, seen.configMap, now, records.writtenAt)
    : repaired;
  const finished = kept.terminal !== undefined;
  // the rounds a finished job ran with, where its status lost them: its kept run config's, as a valid
  // spec's reconcile gives them (ADR 0034, amendment 4); a spec that does not read gives none
  const ranWith =
    finished && previous?.rounds === undefined && records.finished
      ? renderedRounds(seen.configMap)
      : undefined;
  // Running goes False with it, so no condition says the job trains; the pods are left as they were
  // (there is no valid spec to derive them from) and a fixed spec lets the job carry on.
  const updates: ConditionUpdate[] = finished
    ? [{ type: SPEC_REJECTED, status: "True", reason: INVALID_SPEC, message }]
    : [
        { type: "Failed", status: "True", reason: INVALID_SPEC, message },
        {
          type: "Running",
          status: "False",
          reason: "Failed",
          message: "the job is Failed: its spec is invalid",
        },
      ];
  const conditions = upsertConditions(previous?.conditions ?? [], updates, now.toISOString(), m.generation);
  // status.message from these conditions, as computeStatus gives it: the one kept from the last
  // reconcile spoke of what held the job back then (ClientsNotRunning) of a job now Failed
  const said = statusMessage(finished ? previous?.phase : "Failed", conditions);
  const next = finished
    ? { ...previous, ...(ranWith !== undefined ? { rounds: ranWith } : {}), conditions, message: said }
    : { ...previous, phase: "Failed" as const, conditions, message: said, observedGeneration: m.generation };
  // Over the status as stored, so that one that does not read is replaced whole; what only the event
  // stream gives back stays as stored (no replay runs for an invalid spec).
  const patch = statusPatch(stored, withHeldFields(next, stored, heldFields(rejected, previous)));
  const readBack = readBackEvent({
    previous: repaired,
    next,
    readBack: kept.readBack,
    configMap: childNames(involved.name).configMap,
  });
  if (readBack) await deps.events.record(involved, readBack.type, readBack.reason, readBack.message);
  const unreadable = unreadableRecordEvent({
    configMap: childNames(involved.name).configMap,
    unreadable: records.unreadable,
    terminal: kept.terminal,
    applies: false,
  });
  if (unreadable) await deps.events.record(involved, unreadable.type, unreadable.reason, unreadable.message);
  if (patch) await deps.client.patchJobStatus(m.namespace!, m.name!, patch);
  await deps.events.record(involved, "Warning", INVALID_SPEC, message);
  // Terminal: retrying cannot fix a spec; the next spec change re-queues the job.
  return {};
}

/** The finished job's progress from its event stream, followed from now on; once the replay is in. */
function followedStream(deps: ReconcileDeps, raw: KubernetesObject): ProgressSnapshot | undefined {
  const { namespace, name } = raw.metadata as { namespace: string; name: string };
  const key = jobKey(namespace, name);
  deps.progress.track(key, rawNatsUrl(raw, deps.settings.natsUrl), jobToken(namespace, name));
  return deps.progress.snapshot(key);
}

/**
 * `previous` with the finished job's `terminal` read back from its ConfigMap's records: its phase and
 * condition (True at the completion time), Running False, and the recorded times where it has none
 * (else the ConfigMap's last write by the operator, `writtenAt`: ADR 0023, amendment 23);
 * the conditions observed at the generation the job finished with (the spec record's), as written then.
 */
function restoredStatus(
  previous: Status | undefined,
  terminal: Terminal,
  configMap: V1ConfigMap | undefined,
  now: Date,
  writtenAt: string | undefined,
): Status {
  const record = recordedOutcome(configMap);
  const generation = recordedSpec(configMap)?.generation;
  const completionTime = previous?.completionTime ?? record?.completionTime ?? writtenAt ?? now.toISOString();
  const startTime = previous?.startTime ?? record?.startTime;
  const succeeded = terminal.phase === "Succeeded";
  const updates: ConditionUpdate[] = [
    {
      type: terminal.phase,
      status: "True",
      reason: terminal.reason,
      message: terminal.message,
      at: completionTime,
    },
    succeeded
      ? { type: "Failed", status: "False", reason: "NoFailure", message: "no failure so far" }
      : { type: "Succeeded", status: "False", reason: "NotFinished", message: "training has not finished" },
    { type: "Running", status: "False", reason: terminal.phase, message: `the job is ${terminal.phase}` },
  ];
  return {
    ...previous,
    phase: terminal.phase,
    // a condition of another reason (an InvalidSpec failure written while the outcome was lost) goes:
    // the recorded one turns True at the completionTime, not at that one's time
    conditions: upsertConditions(
      (previous?.conditions ?? []).filter((c) => c.type !== terminal.phase || c.reason === terminal.reason),
      updates,
      now.toISOString(),
      generation,
    ),
    completionTime,
    ...(startTime !== undefined ? { startTime } : {}),
  } as Status;
}
