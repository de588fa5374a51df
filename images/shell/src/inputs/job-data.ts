// The data a process reads: a client's shard of the training source (partitioned as the run config
// says, identically in every process) and the server's held-out set, shaped for the bundle's model
// input: images resized to its [C, H, W] in its channels, token ids for text jobs.
import { jobPartitioning, type RunConfig } from "@sfprompt/api";
import {
  bundleSourceOptions,
  checkLabelsFit,
  checkSampleShape,
  ClassCountError,
  clientShard,
  JobPartitionError,
  loadJobSource,
  RunConfigError,
  type DataSource,
  type Dataset,
  type PartitionBundle,
  type TextEncoding,
  unreadableDataDetail,
} from "@sfprompt/core";
import { builtinDataUnreadable } from "./demo-files.js";
import { JobInputError } from "./errors.js";

async function loadSource(
  config: RunConfig,
  source: DataSource,
  split: "train" | "test",
  field: string,
  model: { bundle: PartitionBundle; text: TextEncoding | undefined },
): Promise<Dataset> {
  const at = `spec.${field}`; // the job's field, as its author wrote it
  let data: Dataset;
  try {
    const options = bundleSourceOptions(model.bundle, model.text);
    data = checkSampleShape(await loadJobSource(config, source, split, at, options), model.bundle, at);
  } catch (cause) {
    // a RunConfigError names the field at fault (spec.classes.labels for a folder that lacks a class),
    // which need not be the source it was found in
    if (cause instanceof RunConfigError) throw new JobInputError(cause.field, cause.detail, { cause });
    const detail =
      unreadableDataDetail(source, cause, "on the node") ??
      builtinDataUnreadable(cause) ??
      `cannot load: ${(cause as Error).message}`;
    throw new JobInputError(at, detail, { cause });
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

/** Client `index`'s shard of data.source, for `bundle`'s model input. */
export async function loadClientData(
  config: RunConfig,
  index: number,
  bundle: PartitionBundle,
  text?: TextEncoding,
): Promise<Dataset> {
  const all = await loadSource(config, config.data.source, "train", "data.source", { bundle, text });
  try {
    return clientShard(all, jobPartitioning(config.data, "cluster"), config.clients.count, index);
  } catch (cause) {
    // a split the data cannot give fails the same way on every restart: config.invalid, not a crash
    if (cause instanceof JobPartitionError) throw new JobInputError(cause.field, cause.detail, { cause });
    throw cause;
  }
}

/**
 * The server's held-out set, for `bundle`'s model input: data.evalSource, else the test split of a
 * built-in data.source; undefined when evaluation is off or there is none (client-local folders
 * never reach the server).
 */
export async function loadEvalData(
  config: RunConfig,
  bundle: PartitionBundle,
  text?: TextEncoding,
): Promise<Dataset | undefined> {
  if (config.training.evaluation.everyRounds <= 0) return undefined;
  if (config.data.evalSource !== undefined)
    return loadSource(config, config.data.evalSource, "test", "data.evalSource", { bundle, text });
  if (config.data.source.builtin !== undefined)
    return loadSource(config, config.data.source, "test", "data.source", { bundle, text });
  return undefined;
}
