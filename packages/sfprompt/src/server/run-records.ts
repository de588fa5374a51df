// What a run leaves behind for whoever comes after it: checkpoints and the final parameters in the
// job's Object Store, the round state in KV, and the run.history, run.resumed, round.finished,
// checkpoint.written and job.finished events. The coordinator decides when; these say what is stored
// and announced.
import type { RunConfig } from "@sfprompt/api";
import {
  FINAL_ARTIFACT_OBJECT,
  checkpointObjectName,
  type HistoryRound,
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
 * trained. Before it, run.history carries the job's own rounds of the checkpoint's history (amendment
 * 6), in events that fit a message of `maxPayload` bytes; the rounds too large for one are returned.
 */
export function announceResumed(
  events: EventPublisher,
  point: ResumePoint,
  bucket: string,
  inherited: Inherited | undefined,
  maxPayload: number,
): HistoryChunks["leftOut"] {
  const { round, history } = point.meta;
  const upTo = history.filter((r) => r.round <= round);
  const sent = historyChunks(historyRounds(upTo, inherited), round, maxPayload);
  for (const rounds of sent.chunks) void events.publish({ type: "run.history", round, rounds });
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
  return sent.leftOut;
}

/**
 * The job's own rounds of `history` (after `inherited`'s), ascending, as their round.finished gave
 * them (an unevaluated round the last evaluated accuracy before it, 0 before any; the kept samples),
 * for run.history (ADR 0046, amendment 6).
 */
export function historyRounds(
  history: readonly RoundMetrics[],
  inherited: { readonly round: number } | undefined,
): HistoryRound[] {
  const after = inherited?.round ?? 0;
  const sorted = [...history].sort((a, b) => a.round - b.round);
  return sorted.flatMap((r, i) =>
    r.round <= after
      ? []
      : [
          {
            round: r.round,
            loss: r.loss,
            accuracy: r.accuracy ?? lastAccuracy(sorted.slice(0, i + 1)),
            participants: [...r.participants],
            samples: r.kept,
            bytes: eventBytes(r.bytes),
            durationMs: r.durationMs,
            ...(r.finishedAt === undefined ? {} : { finishedAt: r.finishedAt }),
          },
        ],
  );
}

/**
 * Room left in an event's message for the fields the publisher adds (v, job, at, attempt, launch:
 * names of at most 64 characters) and the JSON around them.
 */
const EVENT_ENVELOPE_BYTES = 512;
/** The job's event stream takes no larger message (ensureJobResources' max_msg_size). */
const STREAM_MAX_MESSAGE = 1024 * 1024;

/** The run.history events of a history, and the rounds none of them can carry. */
export interface HistoryChunks {
  /** The rounds of each event, ascending. */
  readonly chunks: HistoryRound[][];
  /**
   * Rounds whose event alone would pass `limit` (`bytes`: that event's size without the fields the
   * publisher adds), ascending: the consumers' views lack them (ADR 0046, amendment 8).
   */
  readonly leftOut: { readonly round: number; readonly bytes: number; readonly limit: number }[];
}

/**
 * `rounds` split into ascending runs whose run.history of checkpoint round `round` fits a NATS
 * message of `maxPayload` bytes (spec.transport.maxPayload) and the event stream's largest. A round
 * that does not fit a message by itself is left out: the views lack it, as they did before; the
 * caller logs it.
 */
export function historyChunks(
  rounds: readonly HistoryRound[],
  round: number,
  maxPayload: number,
): HistoryChunks {
  const limit = Math.min(maxPayload, STREAM_MAX_MESSAGE) - EVENT_ENVELOPE_BYTES;
  const empty = Buffer.byteLength(JSON.stringify({ type: "run.history", round, rounds: [] }));
  const chunks: HistoryRound[][] = [];
  const leftOut: HistoryChunks["leftOut"] = [];
  let chunk: HistoryRound[] = [];
  let size = empty;
  for (const r of rounds) {
    const bytes = Buffer.byteLength(JSON.stringify(r)) + 1; // and its comma
    if (empty + bytes > limit) {
      leftOut.push({ round: r.round, bytes: empty + bytes - 1, limit });
      continue;
    }
    if (size + bytes > limit) {
      chunks.push(chunk);
      chunk = [];
      size = empty;
    }
    chunk.push(r);
    size += bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return { chunks, leftOut };
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
