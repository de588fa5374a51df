// The operator's in-memory view of one job's training progress, folded from the job's progress events
// on NATS JetStream. The reconciler copies it into the job's status; pods never write the job.
import { enterAttempt, NO_ATTEMPTS, type AttemptView, type EventBytes } from "@sfprompt/protocol";
import type { ClientRounds } from "./client-rounds.js";
import type { RoundRecord } from "./round-history.js";

export interface ClientProgress {
  /**
   * Last round the client took part in among the rounds as they stand (from round.finished
   * participants or its own reports; a round run again without it no longer counts, ADR 0043).
   */
  lastRound?: number;
  /** The state the client last reported (a protocol ClientState). */
  state?: string;
  /** The reason given with that state, if any. */
  reason?: string;
  /** When that state was reported (RFC 3339): a report older than the client's pod is stale. */
  stateAt?: string;
  /** |D_k|, from the latest round.finished it contributed to. */
  samples?: number;
  /** Samples it kept after pruning in that round. */
  kept?: number;
}

/** What the server said when it started (server.ready), the latest replica's report. */
export interface ServerProgress {
  instance: string;
  requested: "cuda" | "cpu";
  actual: "cuda" | "cpu" | "none";
  fallbackReason?: string;
  at: string;
}

export type Outcome =
  | { kind: "completed"; round: number }
  /** `at`: when the server published job.failed (its clock), to tell the failure that ended the job. */
  | { kind: "failed"; reason: string; message: string; at?: string };

export interface ProgressSnapshot {
  /** Rounds completed. */
  round?: number;
  loss?: number;
  accuracy?: number;
  /** The best of roundAccuracy, and its earliest round. */
  bestAccuracy?: number;
  bestRound?: number;
  /**
   * Held-out accuracy per finished round as the rounds stand: a round's latest report, none after
   * the latest round finished (ADR 0043).
   */
  roundAccuracy: Record<number, number>;
  /**
   * Each finished round (loss, accuracy, bytes, clients, time) as the rounds stand, keyed by round:
   * a round's latest report, none after the latest round finished (ADR 0043); what the operator's
   * rounds.json and charts show.
   */
  roundHistory: Record<number, RoundRecord>;
  /** Bytes per finished round, keyed by round: a round reported twice (after a resume) counts once. */
  roundBytes: Record<number, EventBytes>;
  /** The job's totals from job.finished, which supersede the sum of the rounds. */
  jobBytes?: EventBytes;
  lastCheckpoint?: { round: number; object: string };
  /**
   * The job whose checkpoint this run went on from and that checkpoint's round (run.resumed's
   * `inherited`, ADR 0046): the rounds up to it are that job's, not counted in roundBytes.
   */
  resumedFrom?: { job: string; round: number };
  /** Progress per client index. */
  clients: Record<number, ClientProgress>;
  /** The rounds each client index took part in, as far back as a resume can run them again. */
  clientRounds: Record<number, ClientRounds>;
  outcome?: Outcome;
  server?: ServerProgress;
  /**
   * The run attempt the view follows and those it replaced (ADR 0036): the rounds, metrics, bytes,
   * clients, checkpoint and outcome above are all the current attempt's.
   */
  attempts: AttemptView;
  /** Stream sequence of the last event folded in. */
  sequence: number;
}

export function emptySnapshot(): ProgressSnapshot {
  return {
    roundBytes: {},
    roundAccuracy: {},
    roundHistory: {},
    clients: {},
    clientRounds: {},
    attempts: NO_ATTEMPTS,
    sequence: 0,
  };
}

/**
 * The view when attempt `attempt` began: the job started over, so nothing folded from the attempt
 * before it holds any more. What the last server replica reported of itself (server.ready) stays
 * until the new one reports.
 */
export function newAttemptSnapshot(s: ProgressSnapshot, attempt: string): ProgressSnapshot {
  return {
    ...emptySnapshot(),
    ...(s.server ? { server: s.server } : {}),
    attempts: enterAttempt(s.attempts, attempt),
    sequence: s.sequence,
  };
}

/** Bytes sent so far in each direction. */
export function totalBytes(s: ProgressSnapshot): { up: number; down: number } {
  if (s.jobBytes) return { up: s.jobBytes.up, down: s.jobBytes.down };
  return Object.values(s.roundBytes).reduce((a, b) => ({ up: a.up + b.up, down: a.down + b.down }), {
    up: 0,
    down: 0,
  });
}
