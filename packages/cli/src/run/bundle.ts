// The partition bundle of a local run (the splitter, `sfprompt prepare`), in the run directory.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import { MANIFEST_FILE, prepareBundle, SplitOptionsError, type SplitOptions } from "@sfprompt/engine";
import { JobFileError } from "./errors.js";

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

/**
 * The job's field behind each splitter option (SplitOptionsError.option): the splitter's messages
 * name sfprompt prepare's flags, which a job file does not have.
 */
const FIELD_OF_OPTION: Readonly<Record<string, string>> = {
  headBlocks: "spec.model.split.headBlocks",
  promptLength: "spec.prompts.length",
  pooling: "spec.model.split.pooling",
  numClasses: "spec.classes.newClassifier",
};

/**
 * Writes DIR (unless a resumed run already has it: the checkpoint's parameters fit that bundle). A
 * split the model does not allow is a JobFileError naming `jobFile` and the field to change.
 */
export function prepareRunBundle(
  c: RunConfig,
  modelPath: string,
  dir: string,
  resumed: boolean,
  jobFile = "the job",
): void {
  if (resumed && existsSync(join(dir, MANIFEST_FILE))) return;
  try {
    prepareBundle({ model: modelPath, out: dir, ...splitOptionsOf(c) });
  } catch (cause) {
    const field = cause instanceof SplitOptionsError ? FIELD_OF_OPTION[cause.option] : undefined;
    if (field === undefined) throw cause;
    throw new JobFileError(
      jobFile,
      `${field}: the model cannot be split as the job asks (in sfprompt prepare's flags: ${(cause as Error).message})`,
      { cause },
    );
  }
}
