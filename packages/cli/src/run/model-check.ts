// The model file's checks that sfprompt run made only when it split the model (after "starting" and
// the run folder): that the file is an ONNX model, its inputs against spec.model.tokenizer, and that
// it splits as spec.model.split asks (the splitter run on the file's outline, no weights read). Made
// by checkJob before anything starts, for sfprompt run and sfprompt validate alike; the image input's
// sample shape it finds is what the data checks read JSONL number features against.
import { dirname } from "node:path";
import { shellQuote, TEXT_DATASETS, type RunConfig } from "@sfprompt/api";
import {
  checkModelTokenizer,
  jobGradientRefusal,
  jobSplitRefusal,
  RunConfigError,
  sampleShapeRefusal,
  SHAPES_ONLY_VALUES,
  shapesOnlyOfOutline,
  splitOptionsOf,
  type DataSource,
} from "@sfprompt/core";
import {
  buildSplitGradients,
  OnnxIoError,
  readModelOutline,
  splitModel,
  type ModelOutline,
  type SplitModel,
} from "@sfprompt/engine";
import { modelFileDetail } from "../model-file-error.js";
import { JobFileError } from "./errors.js";
import { builtinCacheProblem, demoDataProblem, modelPlan } from "./model-source.js";

/** What the checks read of the job's model file. */
export interface ModelInputs {
  /** The file read. */
  readonly path: string;
  /** Whether the model takes token ids (else one float image input). */
  readonly isText: boolean;
  /** One sample's shape of an image model's input ([C, H, W], [D]); none when symbolic or text. */
  readonly sampleShape?: readonly number[];
}

/**
 * Reads the model file of spec.model.source (checkModelSource passed) without its weights (its
 * outline: graph, initializers' shapes, the small integer tensors shape inference reads, external data
 * files opened but not read), checks its inputs against the job and splits it as the job asks:
 * undefined for a built-in model not in the cache yet (sfprompt run builds it, with the inputs its
 * recipe gives; its cache folder must be one the run can fill, builtinCacheProblem, and the demo's
 * pre-training data there, demoDataProblem). A file that is no ONNX model, or a built-in one damaged in the cache, a model whose
 * inputs do not fit spec.model.tokenizer and a split the splitter refuses (more head blocks than the
 * model has, a cut tensor it does not have) are JobFileErrors naming the field, as the run's split says
 * them (splitError).
 */
export function checkModelFile(c: RunConfig, jobFile: string): ModelInputs | undefined {
  const plan = modelPlan(c);
  if (plan.cached === false) {
    // built by the run, after it started: whether it can write the cache is known now
    const problem = builtinCacheProblem(c, jobFile) ?? demoDataProblem(c, jobFile);
    if (problem !== undefined) throw problem;
    return undefined;
  }
  let outline: ModelOutline;
  try {
    outline = readModelOutline(plan.path, { checkExternalData: true, values: SHAPES_ONLY_VALUES });
  } catch (cause) {
    throw modelReadError(c, plan.path, jobFile, cause);
  }
  const inputs = modelInputs(plan.path, outline);
  try {
    checkModelTokenizer(c, inputs);
  } catch (cause) {
    if (cause instanceof RunConfigError) throw new JobFileError(jobFile, cause.message, { cause });
    throw cause;
  }
  let split: SplitModel;
  try {
    // the split decides from shapes alone: the weights stand in as zeros nothing touches (as traffic's)
    split = splitModel(shapesOnlyOfOutline(outline), splitOptionsOf(c));
  } catch (cause) {
    throw splitError(c, plan.path, jobFile, cause);
  }
  try {
    // the gradient graphs the run's bundle holds (prepareBundle's call): a rule per op on the
    // gradient path, read from shapes and the small int tensors the outline keeps
    buildSplitGradients(split);
  } catch (cause) {
    throw splitError(c, plan.path, jobFile, cause, split);
  }
  return inputs;
}

/**
 * The job file's error for a split of the model at `path` that failed, or its gradient graphs
 * (checkModelFile's on the outline, prepareRunBundle's on the whole model): the splitter's refusal
 * under the job's field; an op the engine cannot differentiate, a tensor whose rank it cannot infer
 * or a grad_<name> the model already has under spec.model.source (jobGradientRefusal; `split`
 * tells the partition); else the model file's error (modelReadError).
 */
export function splitError(
  c: RunConfig,
  path: string,
  jobFile: string,
  cause: unknown,
  split?: SplitModel,
): unknown {
  const refused = jobSplitRefusal(cause, c) ?? jobGradientRefusal(cause, c, path, split);
  if (refused !== undefined)
    return new JobFileError(jobFile, `${refused.field}: ${refused.detail}`, { cause });
  return modelReadError(c, path, jobFile, cause);
}

/**
 * Built-in image sets are grayscale, and the processes resize them to the model input's height and
 * width: a model of another channel count ([3, H, W]) refused them in the server and clients, after
 * they had started. The problems for spec.data.source and (while evaluation is on) evalSource.
 */
export function builtinShapeProblems(c: RunConfig, m: ModelInputs, jobFile: string): JobFileError[] {
  const want = m.sampleShape;
  if (m.isText || want?.length !== 3) return [];
  const sources: Array<[DataSource | undefined, string]> = [[c.data.source, "spec.data.source"]];
  if (c.training.evaluation.everyRounds > 0) sources.push([c.data.evalSource, "spec.data.evalSource"]);
  return sources.flatMap(([s, field]) => {
    if (s?.builtin === undefined || TEXT_DATASETS.includes(s.builtin)) return [];
    const refused = sampleShapeRefusal(field, [1, want[1]!, want[2]!], want);
    return refused === undefined ? [] : [new JobFileError(jobFile, refused.message, { cause: refused })];
  });
}

/** The model's data inputs (graph inputs without a stored value) as the bundle's layout reads them. */
function modelInputs(path: string, { model, initializers }: ModelOutline): ModelInputs {
  const data = model.graph.inputs.filter((i) => !initializers.has(i.name));
  // bundle/model-inputs.ts inputLayout: one float32 input is an image model, int inputs token ids
  const image = data.length === 1 && data[0]!.dtype === "float32";
  if (!image) return { path, isText: true };
  const dims = (data[0]!.shape ?? []).slice(1);
  const numeric = dims.length > 0 && dims.every((d): d is number => typeof d === "number" && d > 0);
  return { path, isText: false, ...(numeric ? { sampleShape: dims } : {}) };
}

/** The job file's error for a model file that cannot be read as ONNX (checkModelFile's and prepareRunBundle's). */
export function modelReadError(c: RunConfig, path: string, jobFile: string, cause: unknown): unknown {
  const builtin = c.model.source.builtin;
  // a built-in model's file is the cache's (written by an earlier run), damaged since: cut short, say
  if (builtin !== undefined && cause instanceof OnnxIoError)
    return new JobFileError(
      jobFile,
      `spec.model.source: builtin: ${builtin}: ${cause.message}; the cached model is damaged: remove its folder (rm -rf ${shellQuote(dirname(path))}) so that the next run builds it again`,
      { cause },
    );
  // the user's file is no ONNX model (a checkpoint of the training framework, a cut-off copy)
  const detail = c.model.source.path === undefined ? undefined : modelFileDetail(cause);
  if (detail !== undefined) return new JobFileError(jobFile, `spec.model.source.path: ${detail}`, { cause });
  return cause;
}
