// The partition bundle of a local run (the splitter, `sfprompt prepare`), in the run directory.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import { jobSplitRefusal, splitOptionsOf } from "@sfprompt/core";
import { MANIFEST_FILE, prepareBundle } from "@sfprompt/engine";
import { modelFileDetail } from "../model-file-error.js";
import { JobFileError } from "./errors.js";

export { splitOptionsOf };

/**
 * Writes DIR (unless a resumed run already has it: the checkpoint's parameters fit that bundle). A
 * split the model does not allow, or a model.source.path that is no ONNX model, is a JobFileError
 * naming `jobFile` and the field to change.
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
    const refused = jobSplitRefusal(cause, c);
    if (refused !== undefined)
      throw new JobFileError(jobFile, `${refused.field}: ${refused.detail}`, { cause });
    // the user's file is no ONNX model (a checkpoint of the training framework, a cut-off copy)
    const detail = c.model.source.path === undefined ? undefined : modelFileDetail(cause);
    if (detail !== undefined) throw new JobFileError(jobFile, `spec.model.source.path: ${detail}`, { cause });
    throw cause;
  }
}
