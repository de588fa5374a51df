// The job-level decisions that shape both the children and the status: is the job finished (and why),
// suspended, past its deadline, due for deletion by its TTL. Pure: time comes in as `now`.
import type { SFPromptJob, Status } from "@sfprompt/api";
import { toRunConfig } from "@sfprompt/api";
import type { OutcomeRecord } from "../desired/outcome-record.js";
import type { ClientPlan } from "../desired/restart-plan.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { keptTerminal, serverFailure, streamReadBack, type KeptTerminal } from "./read-back.js";
import {
  CLIENTS_FAILED,
  conditionFinishedAt,
  DEADLINE_EXCEEDED,
  OUTCOME_UNKNOWN,
  type ReadBackSource,
  type Terminal,
} from "./terminal.js";

export {
  clientsNotice,
  hasFinished,
  INVALID_SPEC,
  OPERATOR_FAILURES,
  OUTCOME_UNKNOWN,
  type ClientsNotice,
  type ReadBackSource,
  type Terminal,
  type TerminalPhase,
} from "./terminal.js";
export { keptTerminal, streamReadBack, type KeptTerminal, type StreamReadBackInput } from "./read-back.js";

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
