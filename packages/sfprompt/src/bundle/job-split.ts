// A job's split as the splitter takes it, and the job's field behind each option the splitter can
// refuse: the splitter's messages name `sfprompt prepare`'s flags (--head-blocks, ...), which a job
// file does not have, so `sfprompt run` and the images name the field the job's author wrote.
import type { RunConfig } from "@sfprompt/api";
import { SplitOptionsError, type SplitOptions } from "@sfprompt/engine";

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

/** The field and message for a split the splitter refused (`error`), or undefined for another error. */
export function jobSplitRefusal(error: unknown): JobSplitRefusal | undefined {
  if (!(error instanceof SplitOptionsError)) return undefined;
  const field = FIELD_OF_OPTION[error.option];
  if (field === undefined) return undefined;
  return {
    field,
    detail: `the model cannot be split as the job asks (in sfprompt prepare's flags: ${error.message})`,
  };
}
