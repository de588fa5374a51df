// The partition bundle of a local run (the splitter, `sfprompt prepare`), in the run directory.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import { MANIFEST_FILE, prepareBundle, type SplitOptions } from "@sfprompt/engine";

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

/** Writes DIR (unless a resumed run already has it: the checkpoint's parameters fit that bundle). */
export function prepareRunBundle(c: RunConfig, modelPath: string, dir: string, resumed: boolean): void {
  if (resumed && existsSync(join(dir, MANIFEST_FILE))) return;
  prepareBundle({ model: modelPath, out: dir, ...splitOptionsOf(c) });
}
