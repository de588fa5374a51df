// The job-level decisions that shape both the children and the status: is the job finished (and why),
// suspended, past its deadline, due for deletion by its TTL. Pure: time comes in as `now`.
import type { Output, SFPromptJob, Status } from "@sfprompt/api";
import { toRunConfig } from "@sfprompt/api";
import type { OutcomeRecord } from "../desired/outcome-record.js";
import type { ClientPlan } from "../desired/restart-plan.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { failureText } from "./condition-text.js";
import { failedAdvice } from "./failed-advice.js";
import { findCondition } from "./conditions.js";
import { FAILURE_REASON_LOST } from "./repaired-status.js";

/** The Failed reason of a spec the API refuses (set by the reconciler before any lifecycle decision). */
export const INVALID_SPEC = "InvalidSpec";

/**
 * The Failed reason of a finished job whose status lost how it finished and whose ConfigMap records
 * only that it finished (the spec record of an operator that kept no outcome record): it is held, not
 * started again (ADR 0023, amendment 21).
 */
export const OUTCOME_UNKNOWN = "OutcomeUnknown";

const CLIENTS_FAILED = "ClientsFailed";
const DEADLINE_EXCEEDED = "DeadlineExceeded";

/**
 * The Failed reasons of the operator's own decisions, which the job's clients are not told of. A
 * server's job.failed never ends with one of them (it becomes TrainingFailed), so a Failed condition's
 * reason alone says who ended the job, in every later reconcile too (ADR 0012, amendment 3).
 */
export const OPERATOR_FAILURES: readonly string[] = [INVALID_SPEC, CLIENTS_FAILED, DEADLINE_EXCEEDED];

export type TerminalPhase = "Succeeded" | "Failed";

export interface Terminal {
  phase: TerminalPhase;
  reason: string;
  message: string;
}

export interface Lifecycle {
  /** Set once the job succeeded or failed; sticky across reconciles. */
  terminal?: Terminal;
  suspended: boolean;
  /** RFC 3339; unset while suspended (like a Job, the deadline counts from the last resume). */
  startTime?: string;
  /** RFC 3339, when terminal. */
  completionTime?: string;
  /** The TTL after finishing has run out: delete the job. */
  expired: boolean;
  /** The next moment (ms from now) at which time alone changes a decision (deadline, TTL). */
  requeueAfterMs?: number;
  /**
   * Where `terminal` was read back from, when the stored status had lost it: the job's ConfigMap's
   * outcome record, or the server's job.failed on the followed event stream (ADR 0023, amendments 13, 18).
   */
  readBack?: ReadBackSource;
}

/**
 * `record`: the outcome record; `stream`: the server's job.failed or job.finished; `spec-record`: only
 * a record that says the job finished and not how (the spec record, or one that does not read):
 * OutcomeUnknown.
 */
export type ReadBackSource = "record" | "stream" | "spec-record";

export interface LifecycleInput {
  job: SFPromptJob;
  previous: Status | undefined;
  progress: ProgressSnapshot | undefined;
  plans: readonly ClientPlan[];
  now: Date;
  /** How the job finished, as its ConfigMap records it (written in the reconcile it finished in). */
  recorded?: OutcomeRecord | undefined;
  /**
   * The job's ConfigMap carries a record of its finish (sfprompt.io/finished-spec or finished-outcome),
   * whether or not it still reads: both are written only as a job finishes, so it finished (ADR 0023,
   * amendment 22).
   */
  markedFinished?: boolean | undefined;
  /**
   * When the operator last wrote the finished job's ConfigMap (FinishedRecords.writtenAt): the
   * completionTime of a finished job where neither its status nor its outcome record gives one.
   */
  recordWrittenAt?: string | undefined;
}

/**
 * Whether the job's clients were told of its end: `told` when the server announced it on the job's
 * event stream (job.finished, job.failed), which the clients hear and exit on by themselves (ADR
 * 0041); `not-told` for the operator's own decisions; `unknown` for a failure whose stored reason did
 * not read (FailureReasonLost, ADR 0023 amendments 9 and 10) or whose outcome was lost (OutcomeUnknown,
 * amendment 21): either may have ended it.
 */
export type ClientsNotice = "told" | "not-told" | "unknown";

export function clientsNotice(terminal: Terminal): ClientsNotice {
  if (terminal.phase === "Succeeded") return "told";
  if (terminal.reason === FAILURE_REASON_LOST || terminal.reason === OUTCOME_UNKNOWN) return "unknown";
  return OPERATOR_FAILURES.includes(terminal.reason) ? "not-told" : "told";
}

/** True once the job has succeeded or failed for good (an invalid spec is not for good). */
export function hasFinished(previous: Status | undefined): boolean {
  return previousTerminal(previous) !== undefined;
}

function previousTerminal(previous: Status | undefined): Terminal | undefined {
  const phase = previous?.phase;
  if (phase !== "Succeeded" && phase !== "Failed") return undefined;
  const c = findCondition(previous?.conditions, phase);
  // An invalid spec stops the job only until the spec is fixed; this reconcile parsed a valid one.
  if (phase === "Failed" && c?.reason === INVALID_SPEC) return undefined;
  return { phase, reason: c?.reason ?? phase, message: c?.message ?? "" };
}

/**
 * When a job that had finished turned Succeeded or Failed, as that condition says: the operator wrote
 * its completionTime with it. Read where the completionTime does not (ADR 0023, amendment 8), instead
 * of now, which would put the TTL after finishing off by as long as the job had been finished.
 */
function conditionFinishedAt(previous: Status | undefined, phase: TerminalPhase): string | undefined {
  const c = findCondition(previous?.conditions, phase);
  return c?.status === "True" ? c.lastTransitionTime : undefined;
}

function clientsLost(input: LifecycleInput): Terminal | undefined {
  const exhausted = input.plans.filter((p) => p.state === "exhausted").map((p) => p.index);
  const quorum = toRunConfig(input.job).training.quorum;
  const alive = input.job.spec.clients.count - exhausted.length;
  if (exhausted.length === 0 || alive >= quorum) return undefined;
  return {
    phase: "Failed",
    reason: CLIENTS_FAILED,
    message: `clients ${exhausted.join(", ")} failed after their last restart; ${alive} left, quorum is ${quorum}`,
  };
}

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
function serverFailure(
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
  input: Pick<LifecycleInput, "previous" | "recorded">,
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
 * recorded Failed. A later job.failed did not end the job (the operator's own decision may have, and
 * a server stopped by it publishes none), and a completed run says nothing of why it failed: both
 * keep FailureReasonLost. Never the reverse: a reason that reads is kept (ADR 0023, amendment 13).
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
  const at = outcome.at === undefined ? NaN : Date.parse(outcome.at);
  if (failedAt === undefined || Number.isNaN(at) || at > Date.parse(failedAt)) return terminal;
  return serverFailure(input, outcome);
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
    // to the second: a completionTime from the ConfigMap's managedFields has whole seconds, cut down
    // from a write that followed the job.failed which ended the job (amendment 23)
    const at = outcome.at === undefined ? NaN : Math.floor(Date.parse(outcome.at) / 1000) * 1000;
    if (heldAt !== undefined && !Number.isNaN(at) && at > Date.parse(heldAt)) return terminal;
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

/** The finished job's terminal as stored, or read back where the stored one is lost; and from where. */
function finishedTerminal(input: LifecycleInput): KeptTerminal {
  const kept = keptTerminal(input.previous, input.recorded, input.markedFinished === true);
  return streamReadBack(kept, { ...input, resumeFrom: input.job.spec.output.resumeFrom });
}

/** Why the job ends now, if it does; the first reason found wins. */
function newTerminal(input: LifecycleInput, startMs: number | undefined): Terminal | undefined {
  const outcome = input.progress?.outcome;
  if (outcome?.kind === "completed") {
    return {
      phase: "Succeeded",
      reason: "TrainingCompleted",
      message: `training finished after round ${outcome.round}`,
    };
  }
  if (outcome?.kind === "failed")
    return serverFailure({ ...input, resumeFrom: input.job.spec.output.resumeFrom }, outcome);
  const lost = clientsLost(input);
  if (lost) return lost;
  const deadline = input.job.spec.activeDeadlineSeconds;
  if (deadline !== undefined && startMs !== undefined && input.now.getTime() >= startMs + deadline * 1000) {
    return {
      phase: "Failed",
      reason: DEADLINE_EXCEEDED,
      message: `the job ran longer than spec.activeDeadlineSeconds (${deadline} s)`,
    };
  }
  return undefined;
}

export function decideLifecycle(input: LifecycleInput): Lifecycle {
  const { job, previous, now } = input;
  const nowIso = now.toISOString();
  const { terminal: prevTerminal, readBack } = finishedTerminal(input);
  // a finished job's status that lost its times: the record's, written with the terminal, stand in
  const record = prevTerminal ? input.recorded : undefined;
  const suspended = !prevTerminal && job.spec.suspend;
  // a job held as OutcomeUnknown did not start now: no startTime where none is known
  const unknown = prevTerminal?.reason === OUTCOME_UNKNOWN;
  const startTime = suspended
    ? undefined
    : (previous?.startTime ?? record?.startTime ?? (unknown ? undefined : nowIso));
  const startMs = startTime ? Date.parse(startTime) : undefined;
  const terminal = prevTerminal ?? (suspended ? undefined : newTerminal(input, startMs));
  if (!terminal) {
    const deadline = job.spec.activeDeadlineSeconds;
    const left =
      deadline !== undefined && startMs !== undefined ? startMs + deadline * 1000 - now.getTime() : undefined;
    return { suspended, expired: false, ...(startTime ? { startTime } : {}), ...opt("requeueAfterMs", left) };
  }
  const completionTime =
    previous?.completionTime ??
    record?.completionTime ??
    (prevTerminal && conditionFinishedAt(previous, prevTerminal.phase)) ??
    // a finished job that lost every record of when: its ConfigMap's last write by the operator
    (prevTerminal && input.recordWrittenAt) ??
    nowIso;
  const ttl = job.spec.ttlSecondsAfterFinished;
  const ttlLeft = ttl !== undefined ? Date.parse(completionTime) + ttl * 1000 - now.getTime() : undefined;
  return {
    terminal,
    suspended: false,
    ...(startTime ? { startTime } : {}),
    completionTime,
    expired: ttlLeft !== undefined && ttlLeft <= 0,
    ...opt("requeueAfterMs", ttlLeft !== undefined && ttlLeft > 0 ? ttlLeft : undefined),
    ...(readBack ? { readBack } : {}),
  };
}

function opt<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}
