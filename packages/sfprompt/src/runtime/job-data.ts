// The data a job's processes train and evaluate on, read from the run config's data section and
// shaped for the bundle's model input: built-in sets (train / test split), image folders and JSONL,
// as images for image models and token ids for text models.
import { jobPartitioning, type RunConfig } from "@sfprompt/api";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import type { Dataset } from "../datasets/dataset.js";
import { clientShard } from "../datasets/job-partition.js";
import { BundleError, RunConfigError } from "./errors.js";
import {
  jobTextEncoding,
  loadJobSource,
  type DataSource,
  type SourceOptions,
  type TextEncoding,
} from "./job-source.js";

/** The image model's [C, H, W]; a model input of another shape is the job's model's (spec.model.source). */
function imageShape(bundle: PartitionBundle): { channels: number; height: number; width: number } {
  let s: number[];
  try {
    s = bundle.input.sampleShape;
  } catch (cause) {
    if (!(cause instanceof BundleError)) throw cause;
    // images are resized to the model's input: a height or width it leaves open gives no size
    throw new RunConfigError(
      "spec.model.source",
      `${cause.message}; image data is resized to the model's input, so export the model with a fixed [C, H, W]`,
      { cause },
    );
  }
  if (s.length !== 3) {
    throw new RunConfigError(
      "spec.model.source",
      `the model input takes samples of shape [${s.join(", ")}]; image data needs [C, H, W]`,
    );
  }
  return { channels: s[0]!, height: s[1]!, width: s[2]! };
}

/**
 * Throws RunConfigError naming `field` unless the samples of `ds` have the shape the bundle's image
 * model takes (folder and built-in images are resized to it; JSONL features are not).
 */
export function checkSampleShape(ds: Dataset, bundle: PartitionBundle, field: string): Dataset {
  if (bundle.isText) return ds;
  const refused = sampleShapeRefusal(field, ds.sampleShape, bundle.input.sampleShape);
  if (refused !== undefined) throw refused;
  return ds;
}

/**
 * The refusal of samples of shape `have` for a model input of `want` per sample, or undefined when
 * they are one shape: checkSampleShape's, and sfprompt run's before it starts (a built-in grayscale
 * set for a model of 3 channels, told from the model's graph).
 */
export function sampleShapeRefusal(
  field: string,
  have: readonly number[],
  want: readonly number[],
): RunConfigError | undefined {
  if (have.join("x") === want.join("x")) return undefined;
  return new RunConfigError(
    field,
    `samples have shape [${have.join(", ")}] but the model takes [${want.join(", ")}]; use data of that shape or another model`,
  );
}

/**
 * How a job's sources are read for the bundle's model: token ids with the job's text encoding, or
 * images resized to the model input's [C, H, W] in its channels (grayscale for 1, RGB for 3, unless
 * the folder source says its mode).
 */
export function bundleSourceOptions(bundle: PartitionBundle, text: TextEncoding | undefined): SourceOptions {
  if (text !== undefined) return { text };
  if (bundle.isText) {
    throw new RunConfigError(
      "spec.model.tokenizer",
      "the model takes token ids: set model.tokenizer (its vocabulary and maxLength)",
    );
  }
  const { channels, height, width } = imageShape(bundle);
  return {
    resize: { height, width },
    mode: channels === 3 ? "rgb" : "grayscale",
    shape: bundle.input.sampleShape,
  };
}

/** The source split shaped for the bundle: resized images of its [C, H, W], or its text encoding. */
async function load(
  config: RunConfig,
  source: DataSource,
  split: "train" | "test",
  bundle: PartitionBundle,
  field: string,
): Promise<Dataset> {
  const text = bundle.isText ? await jobTextEncoding(config) : undefined;
  const ds = await loadJobSource(config, source, split, field, bundleSourceOptions(bundle, text));
  return checkSampleShape(ds, bundle, field);
}

/** All the job's training data (the built-in train split, or the client's folder/file). */
export function loadTrainData(config: RunConfig, bundle: PartitionBundle): Promise<Dataset> {
  return load(config, config.data.source, "train", bundle, "spec.data.source");
}

/** Client `index`'s shard of the training data, as every process computes it. */
export async function loadClientData(
  config: RunConfig,
  bundle: PartitionBundle,
  index: number,
): Promise<Dataset> {
  return clientShard(
    await loadTrainData(config, bundle),
    jobPartitioning(config.data, "one-machine"),
    config.clients.count,
    index,
  );
}

/** The held-out set: data.evalSource, else the built-in source's test split; undefined when evaluation is off. */
export async function loadEvalData(config: RunConfig, bundle: PartitionBundle): Promise<Dataset | undefined> {
  if (config.training.evaluation.everyRounds === 0) return undefined;
  const source =
    config.data.evalSource ?? (config.data.source.builtin !== undefined ? config.data.source : undefined);
  if (source === undefined) {
    throw new RunConfigError(
      "spec.data.evalSource",
      "is required for folder and JSONL data when evaluation is on",
    );
  }
  return load(
    config,
    source,
    "test",
    bundle,
    config.data.evalSource ? "spec.data.evalSource" : "spec.data.source",
  );
}
