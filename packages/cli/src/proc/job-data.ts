// The data a local process of a job reads: the training split (partitioned per client by the
// spec's partitioning) and the held-out set the server evaluates on, as token ids for text jobs.
// `sfprompt run` supports the built-in datasets; folder and JSONL sources are read by the images on
// a cluster.
import type { RunConfig } from "@sfprompt/api";
import {
  bundleSourceOptions,
  checkSampleShape,
  jobTextEncoding,
  loadJobSource,
  type DataSource,
  type Dataset,
  type PartitionBundle,
} from "@sfprompt/core";
import { JobDataError } from "./errors.js";

function builtinOnly(source: DataSource, field: string): DataSource {
  if (source.builtin === undefined)
    throw new JobDataError(
      field,
      "sfprompt run reads built-in datasets only; use builtin: mnist, fashion-mnist, digits or debian-sections",
    );
  return source;
}

// With a bundle, the data is shaped for its model's input (images resized to its [C, H, W]);
// without one, read as it lies (what counts samples needs no more).
async function load(
  c: RunConfig,
  source: DataSource,
  split: "train" | "test",
  field: string,
  bundle: PartitionBundle | undefined,
): Promise<Dataset> {
  const text = await jobTextEncoding(c);
  const options = bundle ? bundleSourceOptions(bundle, text) : text === undefined ? {} : { text };
  const ds = await loadJobSource(c, builtinOnly(source, field), split, field, options);
  return bundle ? checkSampleShape(ds, bundle, field) : ds;
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
