// One method of a local run: the server and client processes against one NATS, followed through the
// job's progress events until it finishes (follow-job.ts), then its metrics, plots and trained
// parameters written.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import { decodeParamSetWithMeta, type ParamSet, type RoundMetrics as CoreRoundMetrics } from "@sfprompt/core";
import {
  ensureJobResources,
  FINAL_ARTIFACT_OBJECT,
  lastEventSeq,
  type ArtifactStore,
} from "@sfprompt/protocol";
import type { NatsConnection } from "@nats-io/transport-node";
import { startChild, STOP_GRACE_MS, stopChildren } from "./children.js";
import { RunDirError } from "./errors.js";
import { follow, type JobFinished } from "./follow-job.js";
import { keptLine, newestCheckpoint } from "./kept-on-stop.js";
import { lacksRoundsUpTo, readCheckpointRounds, withEarlierRounds } from "./earlier-rounds.js";
import { startClean } from "./fresh-store.js";
import {
  emptyMetrics,
  followAttempt,
  ownRounds,
  withCheckpointRounds,
  withClientFlops,
  withFinal,
  withResumedFrom,
  withRound,
  type RunMetrics,
} from "./metrics.js";
import { writeMetricsFiles } from "./metrics-files.js";
import { earlierRoundLine, JobProgressView, type StatusLine } from "./progress-view.js";
import { plural } from "../plural.js";
import { writeRecordedParams } from "./recorded-result.js";
import { resumeFromLine, type SourceCheckpoint } from "./resume-source.js";
import { readRoundHistory } from "./round-history.js";
import { checkCheckpointNotBehind, readMetrics, RUN_FILES, type RoundsSource } from "./run-dir.js";
import { SessionEvents } from "./session-events.js";
import { writeProcessConfig, type ProcessConfig } from "../proc/process-config.js";

export interface MethodRunContext {
  readonly nc: NatsConnection;
  readonly natsUrl: string;
  readonly config: RunConfig;
  readonly bundleDir: string;
  readonly modelPath: string;
  /** Where this method's files go (the run directory, or methods/<method>/ for a baseline). */
  readonly dir: string;
  readonly resumed: boolean;
  /** The run directory and where the rounds were asked for, for a refusal to go on (resumed only). */
  readonly runDir: string;
  readonly roundsSource: RoundsSource;
  /**
   * --resume on the job's own method, resuming its own store: a store without a checkpoint is an
   * error, not round 1. (--resume that goes on from a resumeFrom source is not a resumed session.)
   */
  readonly requireCheckpoint?: boolean;
  /**
   * spec.output.resumeFrom's bucket as the run read it at its start (--nats, the job's own method):
   * where the server goes on from when the job's store holds no checkpoint.
   */
  readonly resumeFrom?: SourceCheckpoint;
  readonly status: StatusLine;
  readonly label: string;
  readonly signal: AbortSignal;
  /** Called when the job has finished, before its processes are stopped and its results read. */
  readonly onFinished?: () => void;
}

export interface MethodRunResult {
  readonly metrics: RunMetrics;
  readonly params: ParamSet | undefined;
  /** The server's per-round history (client FLOPs, |D_k|, ...) from its newest readable checkpoint. */
  readonly history: CoreRoundMetrics[];
  readonly seconds: number;
}

function clientCount(c: RunConfig): number {
  return c.effective.federated ? c.clients.count : 0;
}

/** The final line of metrics from the last round when job.finished did not arrive. */
function finalFromRounds(m: RunMetrics): JobFinished {
  const last = m.rounds.at(-1);
  const bytes = { up: 0, down: 0, byKind: {} as Record<string, number> };
  for (const r of ownRounds(m)) {
    bytes.up += r.bytes.up;
    bytes.down += r.bytes.down;
    for (const [k, v] of Object.entries(r.bytes.byKind)) bytes.byKind[k] = (bytes.byKind[k] ?? 0) + v;
  }
  return {
    v: 1,
    job: m.job,
    at: new Date().toISOString(),
    type: "job.finished",
    rounds: m.rounds.length,
    loss: last?.loss ?? 0,
    accuracy: last?.accuracy ?? 0,
    bytes,
  };
}

/**
 * What a session that goes on from an earlier one's store resumes from, told once the store can be
 * asked: a first session stopped before its first checkpoint leaves a store without one, and the
 * server then starts at round 1. The server goes on from the newest checkpoint it can read (ADR 0035).
 */
function resumeLine(ctx: MethodRunContext, newest: { readonly round: number } | null): string {
  if (newest !== null)
    return `resuming ${ctx.label} from the checkpoint of round ${newest.round}, the store's newest (one that cannot be read is passed over for the one before it: logs/server.log says so)`;
  if (ctx.requireCheckpoint === true)
    throw new RunDirError(
      ctx.dir,
      "has no checkpoint to resume (its nats/ store holds none: the earlier session stopped before writing one); run without --resume to start at round 1",
    );
  return `${ctx.label}: the store holds no checkpoint (the earlier session stopped before writing one); starting at round 1`;
}

/**
 * The rounds before `resumed` that the checkpoint the server resumed from holds and no session
 * printed: the metrics with them, and their lines, which the caller prints once the metrics are
 * written (ADR 0041, amendments 3 and 4).
 */
async function earlierRounds(
  ctx: MethodRunContext,
  store: ArtifactStore,
  metrics: RunMetrics,
  resumed: number,
): Promise<{ readonly metrics: RunMetrics; readonly lines: string[] }> {
  const checkpoint = await readCheckpointRounds(store, resumed);
  if (typeof checkpoint === "string")
    return {
      metrics,
      lines: [
        `${ctx.label}: the rounds before round ${resumed} that the earlier session did not print cannot be shown (${checkpoint}); metrics.json takes them from the newest readable checkpoint when the run ends`,
      ],
    };
  const earlier = withEarlierRounds(metrics, checkpoint, resumed);
  const rounds = ctx.config.training.rounds;
  return {
    metrics: earlier.metrics,
    lines: earlier.unprinted.map((r) => earlierRoundLine(ctx.label, rounds, r)),
  };
}

/** Runs the method to completion and writes metrics.json, the plots and params.bin into ctx.dir. */
export async function runMethod(ctx: MethodRunContext): Promise<MethodRunResult> {
  const started = Date.now();
  const { config } = ctx;
  mkdirSync(ctx.dir, { recursive: true });
  const metricsPath = join(ctx.dir, RUN_FILES.metrics);
  let metrics =
    (ctx.resumed ? readMetrics(metricsPath) : undefined) ?? emptyMetrics(config.job.name, config.method);
  // a fresh session starts clean, also in a bucket spec.output.bucket named: the job's objects there
  // go, the bucket stays; one holding another job's checkpoints is refused (ADR 0045)
  if (!ctx.resumed) await startClean(ctx.nc, config);
  const resources = await ensureJobResources(ctx.nc, config.names);
  // a store without a checkpoint of its own: a job with resumeFrom goes on from the source's (ADR 0044);
  // a resumed --resume session still insists on a checkpoint of the job's own (resumeLine)
  // the store's newest checkpoint, listed once, and only when a line below needs it
  const newest =
    ctx.resumed || config.output.resumeFrom !== undefined
      ? await resources.artifacts.latestCheckpoint()
      : null;
  // a checkpoint past the rounds asked for, which metrics.json (lagging it) did not tell
  if (ctx.resumed && newest !== null)
    checkCheckpointNotBehind(ctx.runDir, newest.round, config.training.rounds, ctx.roundsSource);
  const fromLine =
    ctx.requireCheckpoint !== true && newest === null ? resumeFromLine(ctx.resumeFrom, ctx.label) : undefined;
  if (fromLine !== undefined) ctx.status.line(fromLine);
  else if (ctx.resumed) ctx.status.line(resumeLine(ctx, newest));
  const pc: ProcessConfig = {
    // a new session of a job with resumeFrom starts from that job's checkpoint: its own store was
    // emptied above, so the server finds none of its own and reads the source's (ADR 0044)
    runConfig: {
      ...config,
      output: { ...config.output, resume: ctx.resumed || config.output.resumeFrom !== undefined },
    },
    natsUrl: ctx.natsUrl,
    bundleDir: ctx.bundleDir,
    modelPath: ctx.modelPath,
  };
  const configPath = writeProcessConfig(join(ctx.dir, RUN_FILES.configs), `${config.method}.json`, pc);
  // noted before the server starts: what the stream held by then is earlier sessions'
  const session = new SessionEvents(await lastEventSeq(ctx.nc, config.names.job));
  const logDir = join(ctx.dir, RUN_FILES.logs);
  // Clients first: they load their data while the server starts, so round 1 finds them polling.
  const clients = Array.from({ length: clientCount(config) }, (_, i) =>
    startChild("client", configPath, logDir, i),
  );
  const children = [startChild("server", configPath, logDir), ...clients];
  const view = new JobProgressView(ctx.status, ctx.label, config.training.rounds);
  let earlier = metrics.seconds ?? 0;
  // a session that only finds its rounds done (resuming a finished method) adds no time
  let trained = false;
  // this session's job.finished; undefined when none came (its server's repeated an earlier one's,
  // inside the stream's duplicate window): the totals are then the rounds'
  let finished: JobFinished | undefined;
  // the job ended (finished, failed or lost its processes) rather than being stopped
  let ended = false;
  const save = (): void => {
    metrics = { ...metrics, seconds: earlier + (trained ? (Date.now() - started) / 1000 : 0) };
    writeMetricsFiles(ctx.dir, metrics);
  };
  try {
    const target = { nc: ctx.nc, job: config.names.job, signal: ctx.signal };
    finished = await follow(target, children, async (e, seq) => {
      // the checkpoint history fills in metrics.json what an earlier session's rounds left out
      if (session.isEarlier(seq, e)) return "stale";
      const attempt = followAttempt(metrics, e);
      if (attempt.verdict === "stale") return "stale";
      if (attempt.verdict === "new") {
        // the server started the job over (no checkpoint to go on from): the rounds recorded so
        // far are of an attempt whose parameters are gone, and are trained again
        const dropped = metrics.rounds.length;
        if (dropped > 0)
          ctx.status.line(
            `${ctx.label}: the server started the job over (no checkpoint to resume from): dropping the ${plural(dropped, "round")} of its earlier attempt`,
          );
        view.restart();
        earlier = attempt.metrics.seconds ?? 0;
      }
      metrics = attempt.metrics;
      // a round goes into metrics.json before its line is printed: a session killed in between
      // leaves one recorded and not shown, never one shown and not recorded, which the next session
      // would show again as the earlier session's (ADR 0041, amendment 4). Rounds the checkpoint
      // holds that no session printed go before this session's own (and the resumed one).
      if (e.type === "run.resumed" && e.from === undefined && lacksRoundsUpTo(metrics, e.round)) {
        const earlier = await earlierRounds(ctx, resources.artifacts, metrics, e.round);
        metrics = earlier.metrics;
        save();
        for (const line of earlier.lines) ctx.status.line(line);
      }
      if (e.type === "round.finished") {
        trained = true;
        metrics = withRound(metrics, e);
        save();
      }
      view.onEvent(e);
      return "taken";
    });
    ended = true;
    ctx.onFinished?.();
    metrics = withFinal(metrics, finished ?? finalFromRounds(metrics));
    save();
  } finally {
    ctx.status.clear();
    await stopChildren(children, STOP_GRACE_MS, (c) =>
      ctx.status.line(
        `${ctx.label}: the ${c.name} process did not stop within ${STOP_GRACE_MS / 1000} s of SIGTERM; killed it (SIGKILL); its log: ${c.logFile}`,
      ),
    );
    if (!ended && ctx.signal.aborted) {
      const kept = {
        label: ctx.label,
        rounds: config.training.rounds,
        resumeFrom: config.output.resumeFrom !== undefined,
      };
      ctx.status.line(keptLine(kept, await newestCheckpoint(resources.artifacts)));
    }
  }
  const bytes = await resources.artifacts.get(FINAL_ARTIFACT_OBJECT);
  if (bytes === null) {
    ctx.status.line(
      `${ctx.label}: the job's store has no ${FINAL_ARTIFACT_OBJECT}; no params.bin or trained model is written (run again with --fresh)`,
    );
    return { metrics, params: undefined, history: [], seconds: metrics.seconds ?? 0 };
  }
  const final = decodeParamSetWithMeta(bytes, { source: FINAL_ARTIFACT_OBJECT });
  // the checkpoints hold the same tensors as the final parameters: their layout is the one to expect
  const read = await readRoundHistory(resources.artifacts, final.params, config, (l) =>
    ctx.status.line(`${ctx.label}: ${l}`),
  );
  const history = read.rounds;
  metrics = withClientFlops(withCheckpointRounds(metrics, history), history);
  // the history holds the source job's rounds too: they are marked as that job's (the checkpoint
  // names them; an earlier session's record stands when no checkpoint can be read)
  const source = read.inherited ?? metrics.resumedFrom;
  if (source !== undefined) metrics = withResumedFrom(metrics, source);
  // totals from the rounds count those the checkpoint added too (a round an earlier session's
  // server announced as that session stopped, which this one passed over)
  if (finished === undefined)
    metrics = withFinal(metrics, finalFromRounds(metrics), new Date(metrics.finishedAt ?? Date.now()));
  save();
  const meta = typeof final.meta === "object" && final.meta !== null ? final.meta : {};
  writeRecordedParams(ctx.dir, final.params, meta as Record<string, unknown>, history, config);
  return { metrics, params: final.params, history, seconds: metrics.seconds ?? 0 };
}
