// A client's samples and kept when the followed event stream has not given them: after a lost stream
// the new one gives them back only with the client's next round, and neither run.history nor the
// checkpoint holds them per client (ADR 0046, amendment 7); the status written before the loss does
// (ADR 0023, amendment 16). Pure.
import type { ClientStatus } from "@sfprompt/api";
import type { ClientProgress, ProgressSnapshot } from "../progress/snapshot.js";

/**
 * `p` with the samples and kept of `last` (the client's written entry) where the stream has given
 * neither, if `last` still speaks of the rounds as they stand: the stream's last round for the client
 * is the entry's or a later one (a resume from an older checkpoint takes those rounds back, and a run
 * started over begins at round 1 again), and the stream shows no run attempt replaced (the entry may
 * then be the replaced attempt's). The counts are |D_k|, fixed by the job's data and seed, and the
 * samples kept in the latest round the client finished; its next round.finished replaces them.
 */
export function withWrittenCounts(
  p: ClientProgress | undefined,
  last: ClientStatus | undefined,
  progress: ProgressSnapshot,
): ClientProgress | undefined {
  if (p === undefined || last === undefined) return p;
  if (p.samples !== undefined || p.kept !== undefined) return p;
  if (last.samples === undefined && last.kept === undefined) return p;
  if (progress.attempts.earlier.length > 0) return p;
  if (last.lastRound === undefined || p.lastRound === undefined || p.lastRound < last.lastRound) return p;
  return {
    ...p,
    ...(last.samples !== undefined ? { samples: last.samples } : {}),
    ...(last.kept !== undefined ? { kept: last.kept } : {}),
  };
}
