// The ONNX model a local run splits: a built-in model (the demo ViT, pre-trained on first use; MiniLM,
// fetched and built on first use) or a file path.
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import { ensureMinilmModel, unreadableDetail, type DemoModelCard } from "@sfprompt/core";
import { JobFileError } from "./errors.js";
import { demoModelWithProgress } from "./pretrain-progress.js";
import type { StatusLine } from "./progress-view.js";

export interface ResolvedModel {
  readonly path: string;
  readonly card?: DemoModelCard;
}

/** Resolves spec.model.source on this machine; PVC and ConfigMap sources exist only on a cluster. */
export async function resolveModel(
  c: RunConfig,
  jobFile: string,
  status: StatusLine,
  signal: AbortSignal,
): Promise<ResolvedModel> {
  const s = c.model.source;
  if (s.builtin === "demo") {
    const m = await demoModelWithProgress(status, { signal });
    return { path: m.path, card: m.card };
  }
  if (s.builtin === "minilm") {
    const m = await ensureMinilmModel({
      numClasses: c.classes.numClasses,
      onDownload: (msg) => status.line(`minilm: ${msg}`),
      onBuildStart: (dir) =>
        status.line(`minilm: building the ONNX model from the pre-trained weights into ${dir}`),
    });
    status.line(
      `minilm: ${m.built ? "built" : "cached"} ${m.path} (all-MiniLM-L6-v2, ${m.card.source.package} ${m.card.source.version})`,
    );
    return { path: m.path };
  }
  if (s.path !== undefined) {
    if (!isThere(s.path, jobFile))
      throw new JobFileError(
        jobFile,
        `spec.model.source.path: ${s.path} does not exist on this machine` +
          // a path next to the job file is the usual mistake: relative paths are not taken from there
          (isAbsolute(s.path)
            ? ""
            : ` (a relative path is taken from the current folder, ${process.cwd()})`) +
          "; give the path of an ONNX model file",
      );
    if (statSync(s.path).isDirectory())
      throw new JobFileError(
        jobFile,
        `spec.model.source.path: ${s.path} is a folder; give the path of the ONNX model file in it, e.g. ${s.path}/model.onnx`,
      );
    return { path: s.path };
  }
  throw new JobFileError(
    jobFile,
    "spec.model.source: persistentVolumeClaim and configMap models exist only on a cluster; use path or a builtin model with sfprompt run",
  );
}

/**
 * Whether the model file is there. Not existsSync: it answers false for a file in a folder this user
 * may not search (root's at 0700), which read as "does not exist on this machine"; that is refused
 * naming the user and the chmod instead.
 */
function isThere(path: string, jobFile: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (cause) {
    const denied = unreadableDetail({ path, kind: "file", where: "on this machine" }, cause);
    if (denied !== undefined) throw new JobFileError(jobFile, `spec.model.source.path: ${denied}`, { cause });
    return false;
  }
}
