// The round a job's status reports (status.round, the ROUND column's first half), and so the round a
// finished job's outcome record keeps: one rule for a valid spec's reconcile, its outcome record and
// an invalid spec's report (ADR 0034, amendments 6 and 8). Pure.
import type { Status } from "@sfprompt/api";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { hasFinished } from "./terminal.js";

/**
 * The replayed progress says where a running job is (a new stream or a fresh start goes back to round
 * 0 or 1); the last written round stands while the replay has not caught up. A finished job's round
 * never goes down (a stream lost after that is no new run), but its stream's higher round is taken (a
 * status lost whole is written with round 0 before the replay is in), and so is the round its outcome
 * record kept (`recorded`: a record is there only for a finished job), which is all there is of it
 * while its stream cannot be read (NATS away).
 */
export function statusRound(
  previous: Status | undefined,
  progress: ProgressSnapshot | undefined,
  recorded?: number,
): number {
  if (progress && recorded === undefined && !hasFinished(previous)) return progress.round ?? 0;
  return finishedRound(previous, progress, recorded);
}

/** A finished job's round: the highest of its status's, its stream's and its outcome record's. */
export function finishedRound(
  previous: Status | undefined,
  progress: ProgressSnapshot | undefined,
  recorded: number | undefined,
): number {
  return Math.max(previous?.round ?? 0, progress?.round ?? 0, recorded ?? 0);
}
