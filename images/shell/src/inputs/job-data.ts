// The data a process reads: a client's shard of the training source (partitioned as the run config
// says, identically in every process) and the server's held-out set.
import type { RunConfig } from "@sfprompt/api";
import {
  clientShard,
  loadBuiltinDataset,
  loadImageFolder,
  loadJsonlFeatures,
  type Dataset,
} from "@sfprompt/core";
import { JobInputError } from "./errors.js";

type Source = RunConfig["data"]["source"];

async function loadSource(
  config: RunConfig,
  source: Source,
  split: "train" | "test",
  field: string,
): Promise<Dataset> {
  const classNames = config.classes.labels;
  try {
    if (source.builtin !== undefined) return await loadBuiltinDataset(source.builtin, { split });
    if (source.imageFolder !== undefined) {
      return await loadImageFolder(source.imageFolder.path, {
        ...(source.imageFolder.mode ? { mode: source.imageFolder.mode } : {}),
        ...(classNames ? { classNames } : {}),
      });
    }
    if (source.jsonl !== undefined) {
      return await loadJsonlFeatures(source.jsonl.path, {
        labelField: source.jsonl.labelField,
        ...(source.jsonl.inputField ? { inputField: source.jsonl.inputField } : {}),
        ...(classNames ? { classNames } : {}),
      });
    }
  } catch (cause) {
    throw new JobInputError(field, `cannot load: ${(cause as Error).message}`, { cause });
  }
  throw new JobInputError(field, "names no data source");
}

/** Client `index`'s shard of data.source. */
export async function loadClientData(config: RunConfig, index: number): Promise<Dataset> {
  const all = await loadSource(config, config.data.source, "train", "data.source");
  return clientShard(all, config.data.partitioning, config.clients.count, index);
}

/**
 * The server's held-out set: data.evalSource, else the test split of a built-in data.source;
 * undefined when evaluation is off or there is none (client-local folders never reach the server).
 */
export async function loadEvalData(config: RunConfig): Promise<Dataset | undefined> {
  if (config.training.evaluation.everyRounds <= 0) return undefined;
  if (config.data.evalSource !== undefined)
    return loadSource(config, config.data.evalSource, "test", "data.evalSource");
  if (config.data.source.builtin !== undefined)
    return loadSource(config, config.data.source, "test", "data.source");
  return undefined;
}
