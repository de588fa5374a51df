// The partition bundle of a local run (the splitter, `sfprompt prepare`), in the run directory.
import { accessSync, constants, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { shellQuote, type RunConfig } from "@sfprompt/api";
import { prepareCommandOf, splitOptionsOf, unreadableDetail } from "@sfprompt/core";
import {
  MANIFEST_FILE,
  ManifestError,
  manifestFiles,
  prepareBundle,
  readPartitionManifest,
} from "@sfprompt/engine";
import { splitError } from "./model-check.js";
import { RunDirError } from "./errors.js";

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
  if (resumed && existsSync(join(dir, MANIFEST_FILE))) {
    checkResumedBundle(dir);
    return;
  }
  try {
    prepareBundle({ model: modelPath, out: dir, ...splitOptionsOf(c) });
  } catch (cause) {
    throw splitError(c, modelPath, jobFile, cause);
  }
}

/**
 * What a run's process (server, client, the centralised run) says to do about a graph file of the
 * run's bundle it cannot read, or that lacks an output the manifest names (SessionConfig.bundleFix):
 * the whole `sfprompt prepare` command that writes the bundle again where it is, from the model file
 * the run split (a built-in model's cached file too) and the job's split: the same model and split
 * give the same bundle, so the run's checkpoints still fit it (ADR 0016 amendment 60).
 */
export function runBundleFix(c: RunConfig, bundleDir: string, modelPath: string): string {
  const command = prepareCommandOf(c, bundleDir, modelPath) ?? "";
  return `prepare it again where it is (the same model file and split give the same bundle, which the run's checkpoints fit): ${command}; then run sfprompt run again to go on`;
}

/**
 * A resumed run's bundle must still hold every file its manifest names: one removed or made
 * unreadable since was met by every client mid-round, after nats-server and the server had started,
 * as "cannot read <file>: re-run `sfprompt prepare`", a command the run's user never ran. Removing
 * the folder has this run prepare it again from spec.model.source (the same model and split give the
 * same bundle); --fresh starts the run over.
 */
function checkResumedBundle(dir: string): void {
  const runDir = dirname(dir);
  const fix = `remove the bundle folder (rm -rf ${shellQuote(dir)}) to have it prepared again from spec.model.source (the same model file and split give the same bundle), or start the run over with --fresh`;
  const refuse = (detail: string, cause: unknown): never => {
    const unreadable = unreadableDetail({ path: dir, kind: "folder", where: "on this machine" }, cause);
    throw new RunDirError(runDir, `its bundle ${unreadable ?? detail}; ${fix}`, { cause });
  };
  let files: string[] = [];
  try {
    files = manifestFiles(readPartitionManifest(dir));
  } catch (cause) {
    if (!(cause instanceof ManifestError)) throw cause;
    // without the engine's advice (run sfprompt prepare): this run prepares it once it is removed
    refuse(cause.problem, cause);
  }
  for (const file of files) {
    const path = join(dir, file);
    try {
      accessSync(path, constants.R_OK);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
      refuse(`file ${path}, which its ${MANIFEST_FILE} names, cannot be opened (${code})`, cause);
    }
  }
}
