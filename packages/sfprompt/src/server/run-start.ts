// Where a coordinator's run starts: the checkpoint it goes on from (resume.ts), the run attempt its
// events and round state are stamped with, and the run.resumed announcement of a run that goes on.
import type { RunConfig } from "@sfprompt/api";
import type { JobResources } from "@sfprompt/protocol";
import type { Logger } from "../runtime/logger.js";
import type { ParamSet } from "../training/param-set.js";
import type { Inherited, RoundMetrics } from "./checkpoints.js";
import type { EventPublisher } from "./events.js";
import type { ProgressStore } from "./progress-store.js";
import { inheritedRounds, resumePoint, runAttempt, type OpenBucket } from "./resume.js";
import { announceResumed, type HistoryChunks } from "./run-records.js";

/** What a run's start reads and writes. */
export interface RunStartTarget {
  readonly config: RunConfig;
  readonly resources: JobResources;
  readonly logger: Logger;
  readonly events: EventPublisher;
  /** Starting values and layout of the global parameters. */
  readonly initial: ParamSet;
  readonly openBucket: OpenBucket;
  /** Given the round state's revision, the attempt and the checkpoint the run goes on from. */
  readonly progress: ProgressStore;
}

/** A run that goes on from a checkpoint. */
export interface ResumedRun {
  readonly round: number;
  /** The checkpoint's round history, to be extended by the run. */
  readonly history: RoundMetrics[];
  readonly inherited: Inherited | undefined;
  /** The checkpoint's global parameters. */
  readonly params: ParamSet;
  /** Newer checkpoints passed over because they could not be read, newest first. */
  readonly skipped: string[];
}

export interface RunStart {
  /** The run's attempt (undefined: resumed from an older server's checkpoint). */
  readonly attempt: string | undefined;
  /** null: the run starts from the initial parameters. */
  readonly resumed: ResumedRun | null;
}

/** Chooses the checkpoint and the attempt, stamps them on the progress store and the events. */
export async function startRun(t: RunStartTarget): Promise<RunStart> {
  const { artifacts, roundState } = t.resources;
  const stored = await roundState.get();
  t.progress.revision = stored?.revision ?? 0;
  const point = await resumePoint(artifacts, t.initial, t.config, t.logger, t.openBucket);
  const attempt = runAttempt(point);
  t.progress.attempt = attempt;
  t.events.startAttempt(attempt);
  t.logger.log("info", "run-attempt", {
    attempt: attempt ?? null,
    ...(point === null ? { startedOver: true } : { resumedFrom: point.meta.round }),
    ...(point?.source ? { from: point.source.job } : {}),
  });
  if (point === null) return { attempt, resumed: null };
  // another job's checkpoint is not in this job's bucket: a restart before this job's first one
  // starts from that job's again
  if (point.source === undefined) t.progress.lastCheckpoint = point.object;
  const inherited = inheritedRounds(point);
  const leftOut = announceResumed(
    t.events,
    point,
    point.source?.bucket ?? artifacts.bucket,
    inherited,
    t.config.transport.maxPayload,
  );
  logLeftOut(t.logger, point.meta.round, leftOut);
  return {
    attempt,
    resumed: {
      round: point.meta.round,
      history: [...point.meta.history],
      inherited,
      params: point.params,
      skipped: point.skipped.map((s) => s.object),
    },
  };
}

/** The most left-out rounds one log line lists; `count` says how many there are. */
const MAX_LISTED = 100;

/**
 * One warning for the rounds of the checkpoint's history that no run.history event can carry (ADR
 * 0046, amendment 8): the operator's rounds views, bytes and clients' last rounds lack them after a
 * lost stream, and this line is where that is said.
 */
function logLeftOut(logger: Logger, checkpoint: number, leftOut: HistoryChunks["leftOut"]): void {
  if (leftOut.length === 0) return;
  const largest = leftOut.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  logger.log("warn", "history-rounds-left-out", {
    round: leftOut[0]!.round,
    checkpoint,
    rounds: leftOut.slice(0, MAX_LISTED).map((r) => r.round),
    count: leftOut.length,
    largestBytes: largest.bytes,
    limitBytes: largest.limit,
    why: "each of these rounds alone makes a run.history event larger than one message may be (limitBytes: spec.transport.maxPayload, at most the event stream's 1 MiB, less room for the event's own fields), so it is not sent: where the job's event stream lost these rounds, the operator's rounds.json, charts, status.communication and clients' lastRound lack them",
  });
}
