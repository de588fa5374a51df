// The per-round history of a job (loss, accuracy, bytes, clients, time) as the rounds stand (ADR 0043),
// folded from round.finished (and run.history's rounds the stream lacks, ADR 0046 amendment 6) for
// the operator's rounds.json and charts. Pure; one entry per round
// number, so it never holds more entries than the job has rounds.
import type { EventBytes, HistoryRound, RoundFinished } from "@sfprompt/protocol";

/** One finished round as its latest round.finished gave it. */
export interface RoundRecord {
  readonly round: number;
  /** Mean training loss of the round. */
  readonly loss: number;
  /** Held-out accuracy after the round, in [0, 1]. */
  readonly accuracy: number;
  /** Bytes on the wire: up = client → server; total = up + down; byKind sums both directions. */
  readonly bytes: {
    readonly up: number;
    readonly down: number;
    readonly total: number;
    readonly byKind: Readonly<Record<string, number>>;
  };
  /** The clients that took part. */
  readonly clients: readonly string[];
  /** Kept samples that contributed. */
  readonly samples: number;
  readonly durationMs: number;
  /** When the server reported the round finished (RFC 3339). */
  readonly at: string;
}

/** A round's record from what its round.finished (or the checkpoint's history) gave, finished at `at`. */
function recordOf(
  e: Pick<RoundFinished, "round" | "loss" | "accuracy" | "participants" | "samples" | "durationMs"> & {
    readonly bytes: EventBytes;
  },
  at: string,
): RoundRecord {
  const byKind: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.bytes.byKind)) if (v !== undefined) byKind[k] = v;
  return {
    round: e.round,
    loss: e.loss,
    accuracy: e.accuracy,
    bytes: { up: e.bytes.up, down: e.bytes.down, total: e.bytes.up + e.bytes.down, byKind },
    clients: [...e.participants],
    samples: e.samples,
    durationMs: e.durationMs,
    at,
  };
}

/**
 * `byRound` once `round` finished with `value`, where `latest` is the round that finished last before
 * it. A round after `latest` is added; one at or before it (run again after a resume) replaces that
 * round and drops the later ones, which the resumed server runs again too; the rounds before it stay.
 */
export function withStandingRound<T>(
  byRound: Readonly<Record<number, T>>,
  latest: number | undefined,
  round: number,
  value: T,
): Record<number, T> {
  const standing =
    latest === undefined || round > latest
      ? byRound
      : Object.fromEntries(Object.entries(byRound).filter(([key]) => Number(key) < round));
  return { ...standing, [round]: value };
}

/** `history` once `e` finished, where `latest` is the round that finished last before it (withStandingRound). */
export function withRoundRecord(
  history: Readonly<Record<number, RoundRecord>>,
  latest: number | undefined,
  e: RoundFinished,
): Record<number, RoundRecord> {
  return withStandingRound(history, latest, e.round, recordOf(e, e.at));
}

/**
 * `history` with the rounds of a checkpoint's history (run.history, ADR 0046 amendment 6) it lacks:
 * rounds the followed stream no longer holds (lost or expired). A round the stream reported stays as
 * it is, also one after the checkpoint (a resume runs it again, and its round.finished takes it back,
 * ADR 0043). Dated by when the round was aggregated, or by `at` (the event's) for a checkpoint of an
 * older server.
 */
export function withHistoryRounds(
  history: Readonly<Record<number, RoundRecord>>,
  rounds: readonly HistoryRound[],
  at: string,
): Record<number, RoundRecord> {
  const out: Record<number, RoundRecord> = { ...history };
  for (const r of rounds) if (!Object.hasOwn(out, r.round)) out[r.round] = recordOf(r, r.finishedAt ?? at);
  return out;
}

/** The history's rounds in ascending order. */
export function roundsInOrder(history: Readonly<Record<number, RoundRecord>>): RoundRecord[] {
  return Object.values(history).sort((a, b) => a.round - b.round);
}
