// A finished job's terminal (its phase, reason and message) and what the stored status says of it:
// the reasons the operator writes, whether the job finished, who told its clients. Pure.
import type { Status } from "@sfprompt/api";
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

export const CLIENTS_FAILED = "ClientsFailed";
export const DEADLINE_EXCEEDED = "DeadlineExceeded";

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

/**
 * `record`: the outcome record; `stream`: the server's job.failed or job.finished; `spec-record`: only
 * a record that says the job finished and not how (the spec record, or one that does not read):
 * OutcomeUnknown.
 */
export type ReadBackSource = "record" | "stream" | "spec-record";

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

export function previousTerminal(previous: Status | undefined): Terminal | undefined {
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
export function conditionFinishedAt(previous: Status | undefined, phase: TerminalPhase): string | undefined {
  const c = findCondition(previous?.conditions, phase);
  return c?.status === "True" ? c.lastTransitionTime : undefined;
}
