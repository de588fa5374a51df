// Whether a job's built-in training data can be split as spec.data.partitioning and spec.clients.count
// say. Every client computes its shard on its own and would meet a split the data cannot give only
// after it started (each of them); `sfprompt run` asks before it starts any process.
import { jobPartitioning, type RunConfig } from "@sfprompt/api";
import { loadBuiltinDataset } from "../datasets/builtin.js";
import type { Dataset } from "../datasets/dataset.js";
import { loadDebianSections } from "../datasets/debian-sections.js";
import { DatasetFormatError, DatasetNotFoundError } from "../datasets/errors.js";
import { partitionForJob } from "../datasets/job-partition.js";

// Only the labels and their count matter to the split: text is not tokenized.
function builtinTrain(name: NonNullable<RunConfig["data"]["source"]["builtin"]>): Promise<Dataset> {
  if (name === "debian-sections")
    return loadDebianSections({ split: "train", tokenize: () => [], seqLen: 1, padId: 0 });
  return loadBuiltinDataset(name, { split: "train" });
}

/**
 * Throws JobPartitionError (naming spec.clients.count or spec.data.partitioning.alpha) when the job's
 * built-in training split cannot be partitioned among its clients; reads the split, not other data.
 * A split that cannot be read is left to the clients, which report it.
 */
export async function checkBuiltinPartition(config: RunConfig): Promise<void> {
  const builtin = config.data.source.builtin;
  if (builtin === undefined || config.method === "centralized") return;
  let train: Dataset;
  try {
    train = await builtinTrain(builtin);
  } catch (cause) {
    // data that is not there is the clients' to report: each reads it and says so in its own log,
    // which the run quotes (only the clients read the training split)
    if (cause instanceof DatasetNotFoundError || cause instanceof DatasetFormatError) return;
    throw cause;
  }
  partitionForJob(train, jobPartitioning(config.data, "one-machine"), config.clients.count);
}
