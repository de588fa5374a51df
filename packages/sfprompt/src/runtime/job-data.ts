// The data a job's processes train and evaluate on, read from the run config's data section and
// shaped for the bundle's model input: built-in sets (train / test split), image folders and JSONL,
// as images for image models and token ids for text models.
import type { RunConfig } from "@sfprompt/api";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import type { Dataset } from "../datasets/dataset.js";
import { clientShard } from "../datasets/job-partition.js";
import { RunConfigError } from "./errors.js";
import { jobTextEncoding, loadJobSource, type DataSource } from "./job-source.js";

function imageShape(bundle: PartitionBundle): { channels: number; height: number; width: number } {
  const s = bundle.input.sampleShape;
  if (s.length !== 3) {
    throw new RunConfigError(
      "model",
      `the model input takes samples of shape [${s.join(", ")}]; image data needs [C, H, W]`,
    );
  }
  return { channels: s[0]!, height: s[1]!, width: s[2]! };
}

function checkChannels(ds: Dataset, bundle: PartitionBundle, field: string): Dataset {
  const want = bundle.input.sampleShape;
  if (ds.sampleShape.join("x") !== want.join("x")) {
    throw new RunConfigError(
      field,
      `samples have shape [${ds.sampleShape.join(", ")}] but the model takes [${want.join(", ")}]; use data of that shape or another model`,
    );
  }
  return ds;
}

/** The source split shaped for the bundle: resized images of its [C, H, W], or its text encoding. */
async function load(
  config: RunConfig,
  source: DataSource,
  split: "train" | "test",
  bundle: PartitionBundle,
  field: string,
): Promise<Dataset> {
  if (bundle.isText) {
    const text = await jobTextEncoding(config);
    if (text === undefined) {
      throw new RunConfigError(
        "spec.model.tokenizer",
        "the model takes token ids: set model.tokenizer (its vocabulary and maxLength)",
      );
    }
    return loadJobSource(config, source, split, field, { text });
  }
  const { channels, height, width } = imageShape(bundle);
  const ds = await loadJobSource(config, source, split, field, {
    resize: { height, width },
    mode: channels === 3 ? "rgb" : "grayscale",
    shape: bundle.input.sampleShape,
  });
  return checkChannels(ds, bundle, field);
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
    config.data.partitioning,
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
