// A method's result as the run directory records it: params.bin carries, beside the trained
// parameters, the per-round history and the run config they were trained under, so a later
// `sfprompt run` of the same spec reuses it without starting nats-server, the server or the clients.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { RunConfig } from "@sfprompt/api";
import {
  decodeParamSetWithMeta,
  encodeParamSet,
  ParamSetCodecError,
  RoundMetricsSchema as CoreRoundMetricsSchema,
  type ParamSet,
  type RoundMetrics as CoreRoundMetrics,
} from "@sfprompt/core";
import { z } from "zod";
import type { MethodRunResult } from "./method-run.js";
import { readMetrics, RUN_FILES } from "./run-dir.js";

const RecordedMetaSchema = z.looseObject({
  history: z.array(CoreRoundMetricsSchema),
  runConfig: z.unknown(),
});

/**
 * The config as far as the result depends on it: output.resume says how this session starts (a
 * --resume on a spec with resume: false), not what was trained, job.generation (recorded before
 * ADR 0040 took it out of the run config) trains nothing, and JSON drops what is undefined.
 */
function comparable(config: unknown): unknown {
  const c = JSON.parse(JSON.stringify(config ?? null)) as {
    output?: { resume?: unknown };
    job?: { generation?: unknown };
  } | null;
  if (c?.output !== undefined) delete c.output.resume;
  if (c?.job !== undefined) delete c.job.generation;
  return c;
}

/** Writes params.bin: `params` with `meta` (the server's final meta, if any), the history and the config. */
export function writeRecordedParams(
  dir: string,
  params: ParamSet,
  meta: Record<string, unknown>,
  history: readonly CoreRoundMetrics[],
  config: RunConfig,
): void {
  writeFileSync(join(dir, RUN_FILES.params), encodeParamSet(params, { ...meta, history, runConfig: config }));
}

/**
 * What an earlier session of the run recorded in `dir` for the method of `config`, when it finished
 * every round `config` asks for under the same run config: metrics.json with its final line and
 * params.bin with its history and config. Undefined otherwise (not finished, more rounds asked, any
 * other field changed, or written before params.bin carried its config): the method runs as a
 * resume then, and its server decides what the change means (ADR 0035).
 */
export function recordedResult(dir: string, config: RunConfig): MethodRunResult | undefined {
  const metrics = readMetrics(join(dir, RUN_FILES.metrics));
  const paramsPath = join(dir, RUN_FILES.params);
  if (metrics?.final?.rounds !== config.training.rounds || !existsSync(paramsPath)) return undefined;
  let decoded: ReturnType<typeof decodeParamSetWithMeta>;
  try {
    decoded = decodeParamSetWithMeta(readFileSync(paramsPath), { source: paramsPath });
  } catch (error) {
    // a damaged copy: the method resumes, and its server writes params.bin again
    if (error instanceof ParamSetCodecError) return undefined;
    throw error;
  }
  const { params, meta } = decoded;
  const recorded = RecordedMetaSchema.safeParse(meta);
  if (!recorded.success || !isDeepStrictEqual(comparable(recorded.data.runConfig), comparable(config)))
    return undefined;
  return { metrics, params, history: recorded.data.history, seconds: metrics.seconds ?? 0 };
}
