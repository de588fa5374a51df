// The rounds each client took part in, kept only as far back as a resumed server can still run them
// again, so that a client left out of a re-run round no longer shows the discarded run's (ADR 0043).
// Pure; bounded per client by MAX_RECENT, whatever the job's rounds.

/** Rounds kept per client after the newest checkpoint; older ones fold into `settled`. */
export const MAX_RECENT = 64;

export interface ClientRounds {
  /**
   * Rounds after the newest checkpoint the client took part in, ascending: a server resumed from
   * that checkpoint runs them again, and a re-run without the client takes them back.
   */
  readonly recent: readonly number[];
  /**
   * Its latest round at or before the newest checkpoint (or pushed out of `recent` by the bound):
   * a resume from the newest checkpoint never runs it again. Absent when a re-run went back past it
   * (a server resumed from an older checkpoint): the rounds before are no longer known.
   */
  readonly settled?: number;
}

export const NO_ROUNDS: ClientRounds = { recent: [] };

/** The latest round the client took part in among those that stand, if any is known. */
export function lastRoundOf(c: ClientRounds): number | undefined {
  const recent = c.recent.at(-1);
  if (recent === undefined || c.settled === undefined) return recent ?? c.settled;
  return Math.max(recent, c.settled);
}

/** `c` with `round` taken part in (kept sorted, once), bounded by MAX_RECENT. */
export function tookPart(c: ClientRounds, round: number): ClientRounds {
  if (c.settled === round || c.recent.includes(round)) return c;
  const recent = [...c.recent, round].sort((a, b) => a - b);
  if (recent.length <= MAX_RECENT) return { ...c, recent };
  const oldest = recent.shift()!;
  return { recent, settled: Math.max(c.settled ?? oldest, oldest) };
}

/**
 * `c` once round `round` finished again or for the first time: what it held of that round and later
 * ones came from reports the finished round's participants now replace (a re-run's, or a client's
 * own report of a round it then did not finish). A settled round from `round` on is dropped too,
 * and with it what was known before it.
 */
export function dropFrom(c: ClientRounds, round: number): ClientRounds {
  const cut = c.recent.findIndex((r) => r >= round);
  const recent = cut < 0 ? c.recent : c.recent.slice(0, cut);
  if (c.settled !== undefined && c.settled >= round) return { recent };
  return recent === c.recent ? c : { ...c, recent };
}

/** `c` after a checkpoint of round `checkpoint`: its rounds up to there are no longer run again. */
export function settleAt(c: ClientRounds, checkpoint: number): ClientRounds {
  const cut = c.recent.findIndex((r) => r > checkpoint);
  const upTo = cut < 0 ? c.recent.length : cut;
  if (upTo === 0) return c;
  return { recent: c.recent.slice(upTo), settled: Math.max(c.settled ?? 0, c.recent[upTo - 1]!) };
}
