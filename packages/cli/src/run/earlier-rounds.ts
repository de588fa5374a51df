// The rounds an earlier session's server trained after that session stopped printing, which no
// session printed: the next session reads them from the checkpoint its server resumes from, shows
// them before its own rounds and records them in metrics.json (ADR 0041, amendment 3).
import { CheckpointError, readCheckpointMeta, type CheckpointMeta } from "@sfprompt/core";
import type { ArtifactStore } from "@sfprompt/protocol";
import { withCheckpointRounds, withClientFlops, type RoundMetrics, type RunMetrics } from "./metrics.js";

/** What of a checkpoint's metadata tells the rounds: its history and the rounds another job trained. */
export type CheckpointRounds = Pick<CheckpointMeta, "history" | "inherited">;

/**
 * Whether metrics.json lacks one of the rounds up to `resumed`, the checkpoint's round the server goes
 * on from: only then can the checkpoint hold a round no session showed, and it is read.
 */
export function lacksRoundsUpTo(m: RunMetrics, resumed: number): boolean {
  const recorded = new Set(m.rounds.map((r) => r.round));
  for (let round = 1; round <= resumed; round++) if (!recorded.has(round)) return true;
  return false;
}

/**
 * `m` with the checkpoint's rounds up to `resumed` that it lacks (as withCheckpointRounds takes them:
 * an unevaluated round with the accuracy before it), and of those the rounds before `resumed`, in
 * round order: the ones no session printed. A session records a round in metrics.json as it prints
 * its line, so a round metrics.json holds was printed; `resumed` itself is printed as the resumed
 * round (run.resumed) and recorded here with it. Rounds up to `inherited.round` are another job's
 * (ADR 0044), marked as such when the session ends: neither shown nor recorded here.
 */
export function withEarlierRounds(
  m: RunMetrics,
  checkpoint: CheckpointRounds,
  resumed: number,
): { readonly metrics: RunMetrics; readonly unprinted: RoundMetrics[] } {
  const recorded = new Set(m.rounds.map((r) => r.round));
  const after = checkpoint.inherited?.round ?? 0;
  const missing = checkpoint.history.filter(
    (h) => h.round > after && h.round <= resumed && !recorded.has(h.round),
  );
  const metrics = withClientFlops(withCheckpointRounds(m, missing), missing);
  const shown = new Set(missing.filter((h) => h.round < resumed).map((h) => h.round));
  return { metrics, unprinted: metrics.rounds.filter((r) => shown.has(r.round)) };
}

/** The checkpoint's rounds, or why they cannot be read (a sentence for the user). */
export async function readCheckpointRounds(
  store: ArtifactStore,
  round: number,
): Promise<CheckpointRounds | string> {
  try {
    const meta = await readCheckpointMeta(store, round);
    return meta ?? `the checkpoint of round ${round} is no longer in the job's store`;
  } catch (cause) {
    if (cause instanceof CheckpointError) return cause.message;
    throw cause;
  }
}
