// A job's split as the splitter takes it, and the job's field behind each refusal of the splitter:
// its messages name `sfprompt prepare`'s flags (--head-blocks, --cut-head, ...), which a job file does
// not have, so `sfprompt run` and the images name the field the job's author wrote.
import type { RunConfig } from "@sfprompt/api";
import {
  BlockDetectionError,
  CutTensorError,
  SplitOptionsError,
  TailRewriteError,
  type SplitOptions,
} from "@sfprompt/engine";

/** The splitter's options for the job (head blocks, prompt length, pooling, classifier, cuts). */
export function splitOptionsOf(c: RunConfig): SplitOptions {
  const split = c.model.split;
  return {
    headBlocks: split.headBlocks,
    promptLength: c.prompts.length,
    pooling: split.pooling,
    seed: c.training.seed,
    ...(c.classes.newClassifier ? { numClasses: c.classes.numClasses } : {}),
    ...(split.cutTensors ? { cutHead: split.cutTensors.head, cutTail: split.cutTensors.body } : {}),
  };
}

/** The job's field behind each splitter option (SplitOptionsError.option). */
const FIELD_OF_OPTION: Readonly<Record<string, string>> = {
  headBlocks: "spec.model.split.headBlocks",
  promptLength: "spec.prompts.length",
  pooling: "spec.model.split.pooling",
  numClasses: "spec.classes.newClassifier",
};

/** The job refused by the splitter, told by its field; the splitter's own words follow. */
export interface JobSplitRefusal {
  /** e.g. "spec.model.split.headBlocks". */
  readonly field: string;
  /** What the field gets told, without the field. */
  readonly detail: string;
}

const REFUSED = "the model cannot be split as the job asks";

/** A refusal whose message names prepare's flags: the field, then the message in parentheses. */
function flagNamed(field: string, error: Error): JobSplitRefusal {
  return { field, detail: `${REFUSED} (in sfprompt prepare's flags: ${error.message})` };
}

/** The job's cut behind a CutTensorError: the cut it names, else the split as a whole. */
function cutField(tensor: string, c: RunConfig): string {
  const cuts = c.model.split.cutTensors;
  if (tensor === cuts?.head) return "spec.model.split.cutTensors.head";
  if (tensor === cuts?.body) return "spec.model.split.cutTensors.body";
  return "spec.model.split";
}

/**
 * The field and message for a split the splitter refused (`error`) for the job `c`, or undefined for
 * another error: an option out of range or inconsistent with the model (SplitOptionsError), a cut it
 * cannot make (CutTensorError), blocks it cannot find (BlockDetectionError: the cuts are to be named),
 * a tail it cannot rewrite that another cut avoids (TailRewriteError of cutTail).
 */
export function jobSplitRefusal(error: unknown, c: RunConfig): JobSplitRefusal | undefined {
  if (error instanceof CutTensorError) return flagNamed(cutField(error.tensor, c), error);
  if (error instanceof BlockDetectionError) return flagNamed("spec.model.split.cutTensors", error);
  if (error instanceof TailRewriteError && error.option === "cutTail")
    return flagNamed("spec.model.split.cutTensors.body", error);
  if (!(error instanceof SplitOptionsError)) return undefined;
  // the model itself stands in the way: its message names no flag
  if (error.option === "model") return { field: "spec.model.source", detail: `${REFUSED}: ${error.message}` };
  const field = FIELD_OF_OPTION[error.option];
  return field === undefined ? undefined : flagNamed(field, error);
}
