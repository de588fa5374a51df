// Whether a job's held-out set is its training data: spec.data.evalSource naming the folder or JSONL
// file of spec.data.source (by another spelling, or through a link) scores the model on what it
// trained on, and the accuracy says nothing. Only a process that sees both paths can tell.
import { stat } from "node:fs/promises";
import type { RunConfig } from "@sfprompt/api";
import type { Logger } from "./logger.js";

type Source = RunConfig["data"]["source"];

/** The two paths, when both name the same file or folder on this machine. */
export interface EvalOverlap {
  readonly source: string;
  readonly evalSource: string;
}

function pathOf(s: Source | undefined): string | undefined {
  return s?.imageFolder?.path ?? s?.jsonl?.path;
}

async function identity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}`;
  } catch {
    // not on this machine (a client's node on a cluster) or not readable: nothing to compare; the
    // process that reads it reports its own errors
    return undefined;
  }
}

/** The training and held-out paths when they are the same file or folder here, else undefined. */
export async function evalOverlap(config: RunConfig): Promise<EvalOverlap | undefined> {
  const source = pathOf(config.data.source);
  const evalSource = pathOf(config.data.evalSource);
  if (source === undefined || evalSource === undefined) return undefined;
  const [a, b] = await Promise.all([identity(source), identity(evalSource)]);
  return a !== undefined && a === b ? { source, evalSource } : undefined;
}

/** Logs a warning (event eval.is-training-data) when the held-out set is the training data. */
export async function warnEvalOverlap(config: RunConfig, logger: Logger): Promise<void> {
  if (config.training.evaluation.everyRounds <= 0) return;
  const overlap = await evalOverlap(config);
  if (overlap === undefined) return;
  logger.log("warn", "eval.is-training-data", {
    field: "spec.data.evalSource",
    ...overlap,
    reason:
      "spec.data.evalSource is the training data of spec.data.source: accuracy is measured on samples the clients train on and overstates what the model learned; point evalSource at a held-out set",
  });
}
