// A finished job's terminal where the stored status lost it: read back from its ConfigMap's records
// and from its followed event stream (ADR 0023, amendments 13, 18, 21, 22, 24). Pure.
import type { Output, Status } from "@sfprompt/api";
import type { OutcomeRecord } from "../desired/outcome-record.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { failureText } from "./condition-text.js";
import { failedAdvice } from "./failed-advice.js";
import { findCondition } from "./conditions.js";
import { FAILURE_REASON_LOST } from "./repaired-status.js";
import {
  conditionFinishedAt,
  OPERATOR_FAILURES,
  OUTCOME_UNKNOWN,
  previousTerminal,
  type ReadBackSource,
  type Terminal,
} from "./terminal.js";

type FailedOutcome = Extract<NonNullable<ProgressSnapshot["outcome"]>, { kind: "failed" }>;

/**
 * What reading a finished job's outcome back from its followed event stream needs: no parsed spec, so
 * that a finished job whose spec no longer reads gets it too (ADR 0023, amendment 24).
 */
export interface StreamReadBackInput {
  previous: Status | undefined;
  progress: ProgressSnapshot | undefined;
  /** The outcome record, for the time the job was recorded Failed. */
  recorded?: OutcomeRecord | undefined;
  /** spec.output.resumeFrom, for the Failed condition's advice. */
  resumeFrom: Output["resumeFrom"];
}

/** The Failed terminal of the server's job.failed. */
export function serverFailure(
  input: Pick<StreamReadBackInput, "progress" | "resumeFrom">,
  outcome: FailedOutcome,
): Terminal {
  // The server's reason becomes the condition's when it has the shape conditions require; its
  // message is cut to what a condition holds (a refused status write would freeze the status).
  // Its advice is written for a spec that can still change (sfprompt run); a Failed job's cannot.
  const advice = failedAdvice(input.resumeFrom, input.progress, outcome.reason);
  const message = `${outcome.message}${outcome.message === "" ? "" : ". "}${advice}`;
  return { phase: "Failed", ...failureText(outcome.reason, message, "TrainingFailed", OPERATOR_FAILURES) };
}

/**
 * The terminal the stored status lost, as the job's ConfigMap records it: where the stored status has
 * none (restored without its status, rewritten by a stale writer: a finished job never runs again),
 * only FailureReasonLost, or a finished phase without its condition. The record is the operator's own write of the terminal it decided, so it
 * gives back its own decisions too (DeadlineExceeded, ClientsFailed). A terminal that reads is kept
 * (ADR 0023, amendment 18).
 */
function recordedTerminal(
  input: { previous: Status | undefined; recorded?: OutcomeRecord | undefined },
  stored: Terminal | undefined,
): Terminal | undefined {
  const recorded = input.recorded;
  if (recorded === undefined) return undefined;
  // a finished phase without its condition (a hand-made status) reads as a reason lost too
  const lost =
    stored === undefined ||
    stored.reason === FAILURE_REASON_LOST ||
    stored.reason === OUTCOME_UNKNOWN ||
    findCondition(input.previous?.conditions, stored.phase) === undefined;
  // a record of a lost reason (a job repaired before it was recorded) still gives back the phase
  if (!lost || (stored?.reason === FAILURE_REASON_LOST && recorded.reason === FAILURE_REASON_LOST))
    return undefined;
  return { phase: recorded.phase, reason: recorded.reason, message: recorded.message };
}

/**
 * A finished job's terminal, with a lost failure reason (FailureReasonLost, ADR 0023 amendment 9)
 * replaced by the one the followed run's event stream gives once it reads (the replay caught up, a
 * stream that was away is back): its server's job.failed, published no later than the job was
 * recorded Failed, at the precision that time has (stampedAfter). A later job.failed did not end the
 * job (the operator's own decision may have, and a server stopped by it publishes none), and a
 * completed run says nothing of why it failed: both keep FailureReasonLost. Never the reverse: a reason that reads is kept (ADR 0023, amendment 13).
 */
function readBackTerminal(input: StreamReadBackInput, terminal: Terminal | undefined): Terminal | undefined {
  if (terminal?.reason === OUTCOME_UNKNOWN) return unknownReadBack(input, terminal);
  if (terminal?.reason !== FAILURE_REASON_LOST) return terminal;
  const outcome = input.progress?.outcome;
  if (outcome?.kind !== "failed") return terminal;
  const failedAt =
    input.previous?.completionTime ??
    conditionFinishedAt(input.previous, "Failed") ??
    input.recorded?.completionTime;
  // no readable time is no proof it was sent by then; a failedAt of whole seconds (a managedFields
  // time, metav1.Time) is compared to the second (stampedAfter, ADR 0023 amendment 28)
  const at = outcome.at === undefined ? NaN : Date.parse(outcome.at);
  if (failedAt === undefined || Number.isNaN(at) || stampedAfter(outcome.at, failedAt)) return terminal;
  return serverFailure(input, outcome);
}

/**
 * Whether an event stamped `at` (RFC 3339) came after `held` (when the job was held as
 * OutcomeUnknown, or recorded Failed where its reason was lost), at the precision `held` has (ADR
 * 0023, amendments 27 and 28). A time of whole seconds is the ConfigMap's managedFields time (amendment 23:
 * metav1.Time keeps no fraction), cut down from a write that followed the job.failed which ended the
 * job: `at` is cut to the second too (amendment 24). One with a fraction (the time the job was held,
 * written to the millisecond) is compared as it is, so that a job.failed later in that second is not
 * taken for the one that ended the job. No `at` is no later.
 */
function stampedAfter(at: string | undefined, held: string): boolean {
  const ms = at === undefined ? NaN : Date.parse(at);
  const heldMs = Date.parse(held);
  if (Number.isNaN(ms) || Number.isNaN(heldMs)) return false;
  return (heldMs % 1000 === 0 ? Math.floor(ms / 1000) * 1000 : ms) > heldMs;
}

/**
 * OutcomeUnknown replaced by the followed stream's end of the run, once it reads: its server's
 * job.finished (Succeeded) or job.failed (one stamped after the job was held did not end it). A
 * finished job's server is stopped, so what the stream ends with is how the job ended; the operator's
 * own decisions (a deadline, the clients' restart limit) are on no stream: those stay unknown (ADR
 * 0023, amendment 21).
 */
function unknownReadBack(input: StreamReadBackInput, terminal: Terminal): Terminal {
  const outcome = input.progress?.outcome;
  if (outcome === undefined) return terminal;
  if (outcome.kind === "failed") {
    const heldAt = input.previous?.completionTime;
    if (heldAt !== undefined && stampedAfter(outcome.at, heldAt)) return terminal;
    return serverFailure(input, outcome);
  }
  return {
    phase: "Succeeded",
    reason: "TrainingCompleted",
    message: `training finished after round ${outcome.round}`,
  };
}

/**
 * The terminal of a job whose ConfigMap says it finished and nothing that reads says how (ADR 0023,
 * amendments 21 and 22).
 */
const unknownTerminal: Terminal = {
  phase: "Failed",
  reason: OUTCOME_UNKNOWN,
  message:
    "the job had finished (its ConfigMap carries the record written as it finished, annotation " +
    "sfprompt.io/finished-spec), but its stored status, which said whether it succeeded, was lost, and no " +
    "outcome record reads (annotation sfprompt.io/finished-outcome: the operator it finished under wrote " +
    "none, or it was edited); it is not started again. Its results are where spec.output put them; to " +
    "train again, create a new job (spec.output.resumeFrom.job goes on from this one's checkpoint). Its " +
    "completionTime is when the operator last wrote that ConfigMap, no earlier than the job finished (to " +
    "the second; when the API server does not say, when the job was held): spec.ttlSecondsAfterFinished " +
    "counts from it",
};

/** A finished job's terminal as stored, or as its ConfigMap records it where the stored one is lost. */
export interface KeptTerminal {
  terminal?: Terminal;
  readBack?: ReadBackSource;
}

/**
 * A finished job's terminal as stored, or read back from its ConfigMap's records where the stored one
 * is lost (the event stream aside): the outcome record (amendment 18), else, where only a record that
 * does not say how (the spec record, or one that does not read) says the job finished, OutcomeUnknown
 * (amendments 21, 22). Used for an invalid spec too.
 */
export function keptTerminal(
  previous: Status | undefined,
  recorded: OutcomeRecord | undefined,
  markedFinished: boolean,
): KeptTerminal {
  const stored = previousTerminal(previous);
  const fromRecord = recordedTerminal({ previous, recorded }, stored);
  if (fromRecord) return { terminal: fromRecord, readBack: "record" };
  if (stored) return { terminal: stored };
  // finished (a record is there, read or not), and neither the status nor an outcome record says how
  if (markedFinished && recorded === undefined) return { terminal: unknownTerminal, readBack: "spec-record" };
  return {};
}

/**
 * `kept` (keptTerminal), with a lost reason or outcome replaced by what the followed event stream
 * reads back (amendments 13, 21); and from where.
 */
export function streamReadBack(kept: KeptTerminal, input: StreamReadBackInput): KeptTerminal {
  const terminal = readBackTerminal(input, kept.terminal);
  if (terminal === undefined) return {};
  if (terminal !== kept.terminal) return { terminal, readBack: "stream" };
  return kept;
}
