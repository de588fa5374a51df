// The reconcile of a job whose spec does not read: it is Failed with InvalidSpec, or, finished, keeps
// how it finished (read back from its ConfigMap's records and its event stream where the status lost
// it) with the spec's problem in SpecRejected; nothing is applied but a finished job's outcome record
// where its ConfigMap lacks one (ADR 0023, amendments 9, 17, 21, 24, 25).
import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import { jobToken, type Status } from "@sfprompt/api";
import { betterOutcome } from "../desired/children.js";
import { recordedConfigMap, renderedRounds } from "../desired/config-map.js";
import { finishedRecords } from "../desired/finished-records.js";
import { outcomeRecordAnnotation, recordedOutcome, type OutcomeRecord } from "../desired/outcome-record.js";
import { recordedSpec } from "../desired/spec-record.js";
import { childNames, jobKey } from "../names.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { SPEC_REJECTED } from "../status/checkpoint-rounds.js";
import { upsertConditions, type ConditionUpdate } from "../status/conditions.js";
import { heldFields, withHeldFields } from "../status/held-fields.js";
import { finishedRound } from "../status/job-round.js";
import { INVALID_SPEC, keptTerminal, streamReadBack, type Terminal } from "../status/lifecycle.js";
import { conditionFinishedAt } from "../status/terminal.js";
import { statusMessage } from "../status/status-message.js";
import type { ReconcileDeps, ReconcileResult } from "./deps.js";
import { rawNatsUrl, rawResumeFrom } from "./invalid-read-back.js";
import { observed, repairedFrom, type Base } from "./observed.js";
import { readBackEvent } from "./transition-events.js";
import { unreadableRecordEvent } from "./unreadable-record.js";
import { writeStatus } from "./write-status.js";

/**
 * `base`: the status to build on, as a valid spec's reconcile has it (baseOf: the operator's last
 * write where the cache lags it, ADR 0023 amendment 30).
 */
export async function reportInvalid(
  deps: ReconcileDeps,
  raw: KubernetesObject,
  base: Base,
  message: string,
): Promise<ReconcileResult> {
  const m = raw.metadata!;
  const involved = { namespace: m.namespace!, name: m.name!, uid: m.uid! };
  const { stored, rejected } = base;
  const now = deps.now();
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
    ? {
        ...previous,
        ...finishedRounds(previous, ranWith, progress, records.outcome?.round),
        conditions,
        message: said,
      }
    : { ...previous, phase: "Failed" as const, conditions, message: said, observedGeneration: m.generation };
  // how it finished, recorded where the ConfigMap has no record of it that reads, as a valid spec's
  // reconcile records it: a later loss of the status gives it back (ADR 0023, amendment 25)
  const record = outcomeToRecord(kept.terminal, next, seen.configMap, records.outcome);
  if (record) await deps.client.apply(recordedConfigMap(seen.configMap!, involved, { outcome: record }));
  const readBack = readBackEvent({
    previous: repaired,
    next,
    readBack: kept.readBack,
    configMap: childNames(involved.name).configMap,
    writtenAt: records.writtenAt,
  });
  if (readBack) await deps.events.record(involved, readBack.type, readBack.reason, readBack.message);
  const unreadable = unreadableRecordEvent({
    configMap: childNames(involved.name).configMap,
    unreadable: records.unreadable,
    terminal: kept.terminal,
    applies: false,
  });
  if (unreadable) await deps.events.record(involved, unreadable.type, unreadable.reason, unreadable.message);
  // Over the status as stored, so that one that does not read is replaced whole; what only the event
  // stream gives back stays as stored (of it, an invalid spec's reconcile computes a finished job's
  // round alone). Counted and remembered as a valid spec's write (ADR 0023, amendments 29 and 30).
  await writeStatus(deps, involved, stored, withHeldFields(next, stored, heldFields(rejected, previous)));
  await deps.events.record(involved, "Warning", INVALID_SPEC, message);
  // Terminal: retrying cannot fix a spec; the next spec change re-queues the job.
  return {};
}

/**
 * A finished job's round, rounds and ROUND column (status.progress), as a valid spec's reconcile gives
 * them: the status's rounds, else its kept run config's; the status's round, or its event stream's or
 * its outcome record's (`recorded`) where that is higher (a status lost whole is written with round 0
 * before the replay is in, and with NATS away there is no replay) (ADR 0034, amendments 5, 6 and 8).
 */
function finishedRounds(
  previous: Status | undefined,
  ranWith: number | undefined,
  progress: ProgressSnapshot | undefined,
  recorded: number | undefined,
): Pick<Status, "round" | "rounds" | "progress"> {
  const rounds = previous?.rounds ?? ranWith;
  const round = finishedRound(previous, progress, recorded);
  return rounds !== undefined ? { round, rounds, progress: `${round}/${rounds}` } : { round };
}

/**
 * The outcome record to write on a finished job's ConfigMap: where its terminal says more than the
 * record there (none, or FailureReasonLost since read back: betterOutcome) and the ConfigMap is there
 * to carry it. Never OutcomeUnknown, and never for an InvalidSpec failure, which is no finish.
 */
function outcomeToRecord(
  terminal: Terminal | undefined,
  next: Status,
  configMap: V1ConfigMap | undefined,
  recorded: OutcomeRecord | undefined,
): string | undefined {
  if (terminal === undefined || configMap === undefined || !betterOutcome(terminal, recorded))
    return undefined;
  const completionTime = next.completionTime ?? conditionFinishedAt(next, terminal.phase);
  if (completionTime === undefined) return undefined;
  return outcomeRecordAnnotation({
    ...terminal,
    completionTime,
    ...(next.startTime !== undefined ? { startTime: next.startTime } : {}),
    ...(next.round !== undefined ? { round: next.round } : {}),
  });
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
