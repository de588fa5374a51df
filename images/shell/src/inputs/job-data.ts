// The data a process reads: a client's shard of the training source (partitioned as the run config
// says, identically in every process) and the server's held-out set; token ids for text jobs.
import type { RunConfig } from "@sfprompt/api";
import {
  checkLabelsFit,
  ClassCountError,
  clientShard,
  JobPartitionError,
  loadJobSource,
  type DataSource,
  type Dataset,
  type TextEncoding,
} from "@sfprompt/core";
import { JobInputError } from "./errors.js";

async function loadSource(
  config: RunConfig,
  source: DataSource,
  split: "train" | "test",
  field: string,
  text: TextEncoding | undefined,
): Promise<Dataset> {
  const at = `spec.${field}`; // the job's field, as its author wrote it
  let data: Dataset;
  try {
    data = await loadJobSource(config, source, split, at, text === undefined ? {} : { text });
  } catch (cause) {
    throw new JobInputError(at, `cannot load: ${(cause as Error).message}`, { cause });
  }
  // checked on what was loaded (read once), before the process reports ready: training would meet a
  // label beyond spec.classes.numClasses only mid-round; the message is the one `sfprompt run` gives
  try {
    const named = source.builtin === undefined ? "" : ` (builtin: ${source.builtin})`;
    checkLabelsFit(config, data, `${at}${named}`);
  } catch (cause) {
    if (cause instanceof ClassCountError) throw new JobInputError(cause.field, cause.detail, { cause });
    throw cause;
  }
  return data;
}

/** Client `index`'s shard of data.source. */
export async function loadClientData(
  config: RunConfig,
  index: number,
  text?: TextEncoding,
): Promise<Dataset> {
  const all = await loadSource(config, config.data.source, "train", "data.source", text);
  try {
    return clientShard(all, config.data.partitioning, config.clients.count, index);
  } catch (cause) {
    // a split the data cannot give fails the same way on every restart: config.invalid, not a crash
    if (cause instanceof JobPartitionError) throw new JobInputError(cause.field, cause.detail, { cause });
    throw cause;
  }
}

/**
 * The server's held-out set: data.evalSource, else the test split of a built-in data.source;
 * undefined when evaluation is off or there is none (client-local folders never reach the server).
 */
export async function loadEvalData(config: RunConfig, text?: TextEncoding): Promise<Dataset | undefined> {
  if (config.training.evaluation.everyRounds <= 0) return undefined;
  if (config.data.evalSource !== undefined)
    return loadSource(config, config.data.evalSource, "test", "data.evalSource", text);
  if (config.data.source.builtin !== undefined)
    return loadSource(config, config.data.source, "test", "data.source", text);
  return undefined;
}
