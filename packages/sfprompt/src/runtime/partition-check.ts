// Whether a job's training data can be split as spec.data.partitioning and spec.clients.count say.
// Every client computes its shard on its own and would meet a split the data cannot give only
// after it started (each of them); `sfprompt run` asks before it starts any process.
import { jobPartitioning, type RunConfig } from "@sfprompt/api";
import { loadBuiltinDataset } from "../datasets/builtin.js";
import { datasetSize, type Dataset } from "../datasets/dataset.js";
import { loadDebianSections } from "../datasets/debian-sections.js";
import { DatasetFormatError, DatasetNotFoundError, DatasetUnreadableError } from "../datasets/errors.js";
import { partitionForJob } from "../datasets/job-partition.js";
import {
  checkDataKinds,
  isJsonlKindRefusal,
  isTextJob,
  loadJobSource,
  type TextEncoding,
} from "./job-source.js";

// Only the labels and their count matter to the split: text is not tokenized (no vocabulary read).
const LABELS_ONLY: TextEncoding = { tokenize: () => [], seqLen: 1, padId: 0 };

function builtinTrain(name: NonNullable<RunConfig["data"]["source"]["builtin"]>): Promise<Dataset> {
  if (name === "debian-sections") return loadDebianSections({ split: "train", ...LABELS_ONLY });
  return loadBuiltinDataset(name, { split: "train" });
}

/** Data a check could not read here (left to the processes that read it), and why. */
export interface DataUnread {
  readonly field: "spec.data.source" | "spec.data.evalSource";
  readonly error: unknown;
}

type TrainingRead = { readonly data: Dataset } | { readonly unread: DataUnread };

/**
 * What the checks know of the model before any process starts (sfprompt run reads its graph): the
 * shape of one sample its image input takes, which JSONL number features are read against line by
 * line, as the processes read them.
 */
export interface ModelInputShape {
  readonly shape?: readonly number[];
}

/** The training split, or why it cannot be read: the clients read it and say why. */
async function trainingData(config: RunConfig, model: ModelInputShape): Promise<TrainingRead> {
  const unread = (error: unknown): TrainingRead => ({ unread: { field: "spec.data.source", error } });
  const source = config.data.source;
  if (source.builtin !== undefined) {
    try {
      return { data: await builtinTrain(source.builtin) };
    } catch (cause) {
      // data that is not there (or not readable by this user) is the clients' to report: each reads
      // it and says so in its own log naming spec.data.source, which the run quotes (only the
      // clients read the training split)
      if (
        cause instanceof DatasetNotFoundError ||
        cause instanceof DatasetFormatError ||
        cause instanceof DatasetUnreadableError
      )
        return unread(cause);
      throw cause;
    }
  }
  // folder or JSONL data on this machine, read as it lies. Any error reading it is left to the
  // clients too: they read it again shaped for the model's input (which this check has not opened)
  // and log the refusal naming the field, which the run quotes; reading it here is only to count it.
  try {
    // folder images are found and labelled, not decoded: decoding each at its own size (the model's
    // resize is not known here) refused a folder of mixed sizes, and cost the decode of all of it
    const text = isTextJob(config) ? { text: LABELS_ONLY } : {};
    const data = await loadJobSource(config, source, "train", "spec.data.source", {
      ...text,
      ...(model.shape === undefined ? {} : { shape: model.shape }),
      labelsOnly: true,
    });
    return { data };
  } catch (cause) {
    // a JSONL file of the other kind than the model takes (number features for a text model, or a
    // later line of the other kind) is the job's error, said before any process starts: read for
    // the count anyway, and the clients would each refuse it after nats-server and the server started
    if (isJsonlKindRefusal(cause)) throw cause;
    return unread(cause);
  }
}

/**
 * Reads a folder or JSONL spec.data.evalSource as the server would (labels only) while evaluation is
 * on: one of the other kind than the model takes (text for an image model, number features for a
 * text model) is refused here, where the server refused it only once it started, after nats-server
 * had. Other read errors stay the server's to report: returned, undefined when it reads.
 */
async function checkEvalSource(config: RunConfig, model: ModelInputShape): Promise<DataUnread | undefined> {
  const source = config.data.evalSource;
  if (source === undefined || source.builtin !== undefined) return undefined;
  if (config.training.evaluation.everyRounds <= 0) return undefined;
  try {
    const text = isTextJob(config) ? { text: LABELS_ONLY } : {};
    await loadJobSource(config, source, "test", "spec.data.evalSource", {
      ...text,
      ...(model.shape === undefined ? {} : { shape: model.shape }),
      labelsOnly: true,
    });
    return undefined;
  } catch (cause) {
    if (isJsonlKindRefusal(cause)) throw cause;
    return { field: "spec.data.evalSource", error: cause };
  }
}

/** How the job's training data is split, as checkTrainingPartition found it. */
export interface TrainingSplit {
  /** Samples of the training data (spec.data.source) as read here; none when it cannot be read. */
  readonly samples?: number;
  /** Each client's samples, in client order; none for a centralized job (one process takes all). */
  readonly perClient?: readonly number[];
  /** The sources that could not be read here, and why (the processes that read them say it too). */
  readonly unread: readonly DataUnread[];
}

/**
 * checkTrainingPartition's checks, returning the split it found, and the sources it could not read
 * here (left to the processes that read them); with the model's sample shape, JSONL number features
 * of another size are among them, as the processes would refuse them. A centralized job needs no split: its one process
 * trains on all the data, in batches of up to spec.training.batchSize (a smaller set is one batch);
 * its data is counted, and the kinds are checked, but nothing is split.
 */
export async function trainingSplit(config: RunConfig, model: ModelInputShape = {}): Promise<TrainingSplit> {
  checkDataKinds(config);
  const evalUnread = await checkEvalSource(config, model);
  const read = await trainingData(config, model);
  const unread = [
    ...("unread" in read ? [read.unread] : []),
    ...(evalUnread === undefined ? [] : [evalUnread]),
  ];
  if (!("data" in read)) return { unread };
  const samples = datasetSize(read.data);
  if (config.method === "centralized") return { samples, unread };
  const shards = partitionForJob(
    read.data,
    jobPartitioning(config.data, "one-machine"),
    config.clients.count,
  );
  return { samples, perClient: shards.map((s) => datasetSize(s)), unread };
}

/**
 * Throws JobPartitionError (naming spec.clients.count or spec.data.partitioning.alpha) when the job's
 * training data cannot be partitioned among its clients on one machine: a built-in split, or the
 * folder or JSONL file at its path here (one copy the clients share). Reads the labels, tokenizes
 * nothing; data that cannot be read is left to the clients, which report it. Data of the other kind
 * than the model takes (images or number features for a text model, text for an image model) is a
 * RunConfigError naming spec.data.source or spec.data.evalSource (checkDataKinds, and the JSONL
 * files' lines as read for the count, the evalSource's when evaluation is on).
 */
export async function checkTrainingPartition(config: RunConfig): Promise<void> {
  await trainingSplit(config);
}
