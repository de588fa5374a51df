// The best held-out accuracy over the rounds as they stand (ADR 0043): the latest round.finished of
// each round, and none after the latest one, since a resumed server that went back to a round runs
// the rounds after it again. Pure; one number per round, as the rounds' bytes.
import { withStandingRound } from "./round-history.js";

export interface RoundAccuracy {
  /** Held-out accuracy of each finished round that stands, by round. */
  readonly roundAccuracy: Readonly<Record<number, number>>;
  readonly bestAccuracy?: number;
  /** The earliest round with bestAccuracy. */
  readonly bestRound?: number;
}

/** The best of `byRound`: the highest accuracy, the earliest round of it. */
function bestOf(byRound: Readonly<Record<number, number>>): Omit<RoundAccuracy, "roundAccuracy"> {
  let best: { bestAccuracy: number; bestRound: number } | undefined;
  for (const [key, accuracy] of Object.entries(byRound)) {
    const round = Number(key);
    const better =
      best === undefined ||
      accuracy > best.bestAccuracy ||
      (accuracy === best.bestAccuracy && round < best.bestRound);
    if (better) best = { bestAccuracy: accuracy, bestRound: round };
  }
  return best ?? {};
}

/**
 * `s` once round `round` finished with `accuracy`, where `latest` is the round that finished last
 * before it. A round after `latest` adds to what stands; one at or before it (run again after a
 * resume) replaces that round's result and drops the later rounds', and the best is found again.
 */
export function withRoundAccuracy(
  s: RoundAccuracy,
  latest: number | undefined,
  round: number,
  accuracy: number,
): RoundAccuracy {
  const roundAccuracy = withStandingRound(s.roundAccuracy, latest, round, accuracy);
  if (latest === undefined || round > latest) {
    const better = s.bestAccuracy === undefined || accuracy > s.bestAccuracy;
    return {
      roundAccuracy,
      ...(better
        ? { bestAccuracy: accuracy, bestRound: round }
        : { bestAccuracy: s.bestAccuracy, bestRound: s.bestRound }),
    };
  }
  return { roundAccuracy, ...bestOf(roundAccuracy) };
}

/**
 * `s` once a resumed server said its checkpoint's rounds had their best `accuracy` in `round`
 * (run.resumed, ADR 0046 amendment 5): that round stands, with the checkpoint's result, whether or
 * not the stream still holds its round.finished (a lost stream, a new operator's replay of it), and
 * the best is found again.
 */
export function withCheckpointBest(s: RoundAccuracy, round: number, accuracy: number): RoundAccuracy {
  const roundAccuracy = { ...s.roundAccuracy, [round]: accuracy };
  return { roundAccuracy, ...bestOf(roundAccuracy) };
}
