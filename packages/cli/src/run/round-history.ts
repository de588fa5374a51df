// The server's per-round history of a finished method, read from its checkpoints the way a resuming
// server reads them (@sfprompt/core's readLatestCheckpoint, ADR 0035): the newest readable one, with
// each newer checkpoint that could not be read reported to the user, naming it and why.
import type { RunConfig } from "@sfprompt/api";
import {
  CheckpointError,
  readLatestCheckpoint,
  type ParamSet,
  type RoundMetrics as CoreRoundMetrics,
} from "@sfprompt/core";
import type { ArtifactStore } from "@sfprompt/protocol";

export interface RoundHistory {
  readonly rounds: CoreRoundMetrics[];
  /** The checkpoint the rounds come from (undefined: the job has none that can be read). */
  readonly from?: string;
  /** The job whose rounds up to `round` the history took over (spec.output.resumeFrom, ADR 0044). */
  readonly inherited?: { readonly job: string; readonly round: number };
}

/**
 * The history in the newest readable checkpoint of the job. `layout` is the trained parameters'
 * (the final artifact's): checkpoints hold the same tensors. Each lines `report` gets is a sentence
 * for the user; the history is what metrics.json's per-round numbers are corrected from, so a
 * checkpoint passed over, or none readable, is said rather than silently giving fewer rounds.
 */
export async function readRoundHistory(
  store: ArtifactStore,
  layout: ParamSet,
  config: RunConfig,
  report: (line: string) => void,
): Promise<RoundHistory> {
  try {
    const point = await readLatestCheckpoint(store, layout, config);
    if (point === null) return { rounds: [] };
    for (const s of point.skipped)
      report(
        `checkpoint ${s.object} cannot be read (${s.reason}); the round history comes from ${point.object} (round ${point.meta.round}), the newest one that can`,
      );
    const { history, inherited } = point.meta;
    return { rounds: history, from: point.object, ...(inherited ? { inherited } : {}) };
  } catch (cause) {
    // the trained parameters are the final artifact's, whatever the checkpoints: the run's result
    // stands, only the per-round numbers stay as the progress events reported them
    if (!(cause instanceof CheckpointError)) throw cause;
    report(
      `the round history cannot be read from the job's checkpoints (${cause.message}); metrics.json keeps each round as its progress event reported it`,
    );
    return { rounds: [] };
  }
}
