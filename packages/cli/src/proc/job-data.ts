// The data a local process of a job reads: the training split (partitioned per client by the
// spec's partitioning) and the held-out set the server evaluates on, as token ids for text jobs.
// Every source the images read: built-in sets, and folder and JSONL data at their paths on this
// machine (one copy that the clients split, unless the strategy is none: jobPartitioning).
import type { RunConfig } from "@sfprompt/api";
import {
  bundleSourceOptions,
  checkSampleShape,
  DatasetUnreadableError,
  jobTextEncoding,
  loadJobSource,
  type DataSource,
  type Dataset,
  type PartitionBundle,
  type TextEncoding,
  unreadableDataDetail,
} from "@sfprompt/core";
import { JobInputError, jobInputErrorOf, minilmVocabularyError } from "./input-error.js";

/** The job's text encoding; a tokenizer that cannot be had is the job's input error. */
async function textEncoding(c: RunConfig): Promise<TextEncoding | undefined> {
  try {
    return await jobTextEncoding(c);
  } catch (cause) {
    throw minilmVocabularyError(c, cause) ?? jobInputErrorOf(cause) ?? cause;
  }
}

// With a bundle, the data is shaped for its model's input (images resized to its [C, H, W]);
// without one, read as it lies (what counts samples needs no more). Data that cannot be read is
// the job's input error, told by `field` (as the images tell it), unless it names its own field.
async function load(
  c: RunConfig,
  source: DataSource,
  split: "train" | "test",
  field: string,
  bundle: PartitionBundle | undefined,
): Promise<Dataset> {
  const text = await textEncoding(c);
  const options = bundle ? bundleSourceOptions(bundle, text) : text === undefined ? {} : { text };
  try {
    const ds = await loadJobSource(c, source, split, field, options);
    return bundle ? checkSampleShape(ds, bundle, field) : ds;
  } catch (cause) {
    throw dataInputError(source, field, cause);
  }
}

/**
 * The job's input error for `source` (at `field`) that could not be read, as the processes say it and
 * sfprompt run's checks before them (run/job-checks.ts): a file the run's user cannot read says so,
 * and what to chmod, as the images say it (a built-in dataset's says it itself: Fashion-MNIST in a
 * folder this user may not search); an error naming its own field keeps it; else "cannot load: …".
 */
export function dataInputError(source: DataSource, field: string, cause: unknown): JobInputError {
  const detail =
    unreadableDataDetail(source, cause, "on this machine") ??
    (cause instanceof DatasetUnreadableError
      ? cause.message
      : `cannot load: ${cause instanceof Error ? cause.message : String(cause)}`);
  return jobInputErrorOf(cause) ?? new JobInputError(field, detail, { cause });
}

/** The training split of the job's data source (all of it: clients take their shard). */
export function loadTrainData(c: RunConfig, bundle?: PartitionBundle): Promise<Dataset> {
  return load(c, c.data.source, "train", "spec.data.source", bundle);
}

/** The held-out set: spec.data.evalSource, else the test split of the built-in source. */
export function loadEvalData(c: RunConfig, bundle?: PartitionBundle): Promise<Dataset> {
  const field = c.data.evalSource ? "spec.data.evalSource" : "spec.data.source";
  return load(c, c.data.evalSource ?? c.data.source, "test", field, bundle);
}
