// The centralised baseline of --compare: one process holds all the data (no clients, no NATS), so
// it runs inside `sfprompt run` itself through @sfprompt/core's runCentralized.
import { mkdirSync } from "node:fs";
import type { RunConfig } from "@sfprompt/api";
import {
  PartitionBundle,
  runCentralized,
  silentLogger,
  type RoundMetrics as CoreRound,
  textBundleConfig,
} from "@sfprompt/core";
import { loadEvalData, loadTrainData } from "../proc/job-data.js";
import { runBundleFix } from "./bundle.js";
import type { MethodRunResult } from "./method-run.js";
import { writeMetricsFiles } from "./metrics-files.js";
import { emptyMetrics, withClientFlops, type RunMetrics } from "./metrics.js";
import type { StatusLine } from "./progress-view.js";
import { writeRecordedParams } from "./recorded-result.js";
import { formatDuration } from "./progress-view.js";

export interface CentralizedContext {
  readonly config: RunConfig;
  readonly bundleDir: string;
  /** The model file the run split into bundleDir (for the command that prepares it again). */
  readonly modelPath: string;
  readonly dir: string;
  readonly status: StatusLine;
  readonly label: string;
  readonly signal: AbortSignal;
}

function withCoreRound(m: RunMetrics, r: CoreRound, lastAccuracy: number): RunMetrics {
  const rounds = m.rounds.filter((x) => x.round !== r.round);
  rounds.push({
    round: r.round,
    loss: r.loss,
    accuracy: r.accuracy ?? lastAccuracy,
    bytes: { up: 0, down: 0, total: 0, byKind: {} },
    clients: [...r.participants],
    samples: r.kept,
    durationMs: r.durationMs,
    at: new Date().toISOString(),
  });
  return { ...m, rounds };
}

/** Runs the centralised baseline and writes its metrics, plots and params.bin into ctx.dir. */
export async function runCentralizedMethod(ctx: CentralizedContext): Promise<MethodRunResult> {
  const started = Date.now();
  const c = ctx.config;
  mkdirSync(ctx.dir, { recursive: true });
  const bundle = PartitionBundle.load(ctx.bundleDir, {
    ...textBundleConfig(c),
    logger: silentLogger,
    bundleFix: runBundleFix(c, ctx.bundleDir, ctx.modelPath),
  });
  const [train, evalSet] = await Promise.all([loadTrainData(c, bundle), loadEvalData(c, bundle)]);
  let metrics = emptyMetrics(c.job.name, c.method);
  let last = 0;
  try {
    const r = await runCentralized(c, {
      bundle,
      train,
      eval: evalSet,
      logger: silentLogger,
      signal: ctx.signal,
      onRound: (round) => {
        last = round.accuracy ?? last;
        metrics = withCoreRound(metrics, round, last);
        ctx.status.line(
          `${ctx.label} round ${round.round}/${c.training.rounds} loss=${round.loss.toFixed(4)} ` +
            `accuracy=${(last * 100).toFixed(2)}% bytes=0 B time=${formatDuration(round.durationMs / 1000)}`,
        );
      },
    });
    metrics = withClientFlops(metrics, r.rounds);
    const final = metrics.rounds.at(-1);
    const seconds = (Date.now() - started) / 1000;
    metrics = {
      ...metrics,
      finishedAt: new Date().toISOString(),
      seconds,
      final: {
        rounds: r.rounds.length,
        loss: final?.loss ?? 0,
        accuracy: last,
        bytes: { up: 0, down: 0, total: 0, byKind: {} },
      },
    };
    writeMetricsFiles(ctx.dir, metrics);
    // the history and config travel in the meta, so that a resumed run can reuse this result
    writeRecordedParams(ctx.dir, r.global, { method: c.method }, r.rounds, c);
    return { metrics, params: r.global, history: r.rounds, seconds };
  } finally {
    await bundle.release();
  }
}
