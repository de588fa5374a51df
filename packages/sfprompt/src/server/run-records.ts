// What a run leaves behind for whoever comes after it: checkpoints and the final parameters in the
// job's Object Store, the round state in KV, and the run.resumed, round.finished, checkpoint.written
// and job.finished events. The coordinator decides when; these say what is stored and announced.
import type { RunConfig } from "@sfprompt/api";
import {
  FINAL_ARTIFACT_OBJECT,
  checkpointObjectName,
  type JobResources,
  type RoundContribution,
} from "@sfprompt/protocol";
import { encodeParamSet } from "../training/param-set-codec.js";
import type { ParamSet } from "../training/param-set.js";
import { writeCheckpoint, type Inherited, type ResumePoint, type RoundMetrics } from "./checkpoints.js";
import { checkpointSpec } from "./checkpoint-spec.js";
import type { EventPublisher } from "./events.js";
import type { ProgressStore } from "./progress-store.js";
import { bestOwnRound, eventBytes, lastAccuracy, ownRounds, totalBytes } from "./round-metrics.js";

/** Where a run's records go. */
export interface RunRecordsTarget {
  readonly config: RunConfig;
  readonly resources: JobResources;
  readonly progress: ProgressStore;
  readonly events: EventPublisher;
}

/** What a run carries into each checkpoint besides its rounds. */
export interface RunLineage {
  /** The run attempt (ADR 0036; undefined: resumed from an older server's checkpoint). */
  readonly attempt: string | undefined;
  /** The rounds taken over from another job (ADR 0044), carried into every checkpoint. */
  readonly inherited: Inherited | undefined;
}

/**
 * Stores the checkpoint of `round` (the global parameters and the rounds' metrics so far, under the
 * run's attempt, with the rounds it inherited), names it in the round state, and announces it.
 */
export async function recordCheckpoint(
  t: RunRecordsTarget,
  round: number,
  global: ParamSet,
  history: readonly RoundMetrics[],
  { attempt, inherited }: RunLineage,
): Promise<void> {
  const name = checkpointObjectName(round);
  const info = await t.progress.write(`checkpoint of round ${round} (${name})`, () =>
    writeCheckpoint(t.resources.artifacts, global, {
      job: t.config.names.job,
      method: t.config.method,
      round,
      history: [...history],
      spec: checkpointSpec(t.config),
      ...(attempt === undefined ? {} : { attempt }),
      ...(inherited === undefined ? {} : { inherited }),
    }),
  );
  t.progress.lastCheckpoint = info.name;
  await t.progress.putState({
    phase: "checkpointing",
    round,
    selected: [],
    reported: history.at(-1)?.participants ?? [],
    startedAt: new Date().toISOString(),
  });
  void t.events.publish({
    type: "checkpoint.written",
    round,
    bucket: t.resources.artifacts.bucket,
    object: info.name,
    size: info.size,
    ...(info.digest ? { digest: info.digest } : {}),
  });
}

/**
 * Queues run.resumed (ADR 0046): the run goes on from the checkpoint of `point`, read from `bucket`
 * (the job's own, or the resumeFrom source's), so consumers show its round before the next one
 * finishes, with that round's loss and accuracy as its round.finished gave them (amendment 3) and
 * the best of the job's own rounds up to it (amendment 5); `inherited` names the rounds another job
 * trained.
 */
export function announceResumed(
  events: EventPublisher,
  point: ResumePoint,
  bucket: string,
  inherited: Inherited | undefined,
): void {
  const { round, history } = point.meta;
  const upTo = history.filter((r) => r.round <= round);
  const last = upTo.find((r) => r.round === round);
  const best = bestOwnRound(upTo, inherited, round);
  void events.publish({
    type: "run.resumed",
    round,
    bucket,
    object: point.object,
    ...(point.source === undefined ? {} : { from: { job: point.source.job, bucket: point.source.bucket } }),
    ...(inherited === undefined ? {} : { inherited: { job: inherited.job, round: inherited.round } }),
    ...(last === undefined ? {} : { loss: last.loss, accuracy: lastAccuracy(upTo) }),
    ...(best === undefined ? {} : { best: { round: best.round, accuracy: best.accuracy } }),
  });
}

/** Queues round.finished of the round `metrics` describe (a round without evaluation repeats the last). */
export function announceRound(
  events: EventPublisher,
  metrics: RoundMetrics,
  contributions: RoundContribution[],
  history: readonly RoundMetrics[],
): void {
  void events.publish({
    type: "round.finished",
    round: metrics.round,
    loss: metrics.loss,
    accuracy: metrics.accuracy ?? lastAccuracy(history),
    participants: metrics.participants,
    samples: metrics.kept,
    contributions,
    bytes: eventBytes(metrics.bytes),
    durationMs: metrics.durationMs,
  });
}

/**
 * Stores the final parameters, leaves phase "finished" in the round state and announces job.finished,
 * whose bytes are the job's own rounds' (not those `inherited` from another job, ADR 0044), as its
 * round.finished events were.
 */
export async function recordFinish(
  t: RunRecordsTarget,
  global: ParamSet,
  history: readonly RoundMetrics[],
  inherited: Inherited | undefined,
): Promise<void> {
  const final = encodeParamSet(global, {
    job: t.config.names.job,
    method: t.config.method,
    rounds: history.length,
  });
  await t.progress.write(`final parameters (${FINAL_ARTIFACT_OBJECT})`, () =>
    t.resources.artifacts.put(FINAL_ARTIFACT_OBJECT, final, "trained prompt + tail"),
  );
  const last = history.at(-1);
  await t.progress.putState({
    phase: "finished",
    round: last?.round ?? 0,
    selected: [],
    reported: [],
    startedAt: new Date().toISOString(),
  });
  void t.events.publish({
    type: "job.finished",
    rounds: history.length,
    loss: last?.loss ?? 0,
    accuracy: lastAccuracy(history),
    bytes: eventBytes(totalBytes(ownRounds(history, inherited))),
    artifact: FINAL_ARTIFACT_OBJECT,
  });
}
