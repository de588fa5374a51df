// The partition bundle a process runs: a given directory (`--bundle-dir`, what `sfprompt run` passes),
// or one prepared here from the model source. The splitter is deterministic for a model, split, prompt
// length and seed, so the server and every client prepare identical bundles independently; the result
// is cached under a content hash and published by an atomic rename (processes may race on one cache).
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { shellQuote, type RunConfig } from "@sfprompt/api";
import {
  CacheDirError,
  ensureDemoModel,
  ensureMinilmModel,
  jobGradientRefusal,
  jobSplitRefusal,
  type LeftAside,
  pathIsThere,
  splitForMessage,
  splitOptionsOf,
  unwritableDetail,
} from "@sfprompt/core";
import {
  ExternalDataLocationError,
  externalDataFiles,
  OnnxIoError,
  prepareBundle,
  readModel,
  type Model,
} from "@sfprompt/engine";
import type { Logger } from "../logger.js";
import { cachedBundle, DamagedCopyError } from "./bundle-cache.js";
import { checkBundle } from "./bundle-check.js";
import { withDemoModel } from "./demo-files.js";
import { BUNDLE_DIR_SETTING, CACHE_DIR_SETTING, JobInputError } from "./errors.js";
import { withMinilmFiles } from "./minilm-files.js";

export interface BundleInputs {
  /** A prepared bundle: used as is. */
  readonly bundleDir?: string | undefined;
  /** The ONNX model to split, overriding model.source (a mounted PVC or ConfigMap file). */
  readonly modelPath?: string | undefined;
  readonly cacheDir: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** The bundle directory for `config`, preparing (and caching) it when none was given. */
export async function resolveBundleDir(config: RunConfig, o: BundleInputs): Promise<string> {
  if (o.bundleDir !== undefined) {
    checkBundle(o.bundleDir, config, o.modelPath);
    return o.bundleDir;
  }
  const model = await resolveModelPath(config, o);
  const options = splitOptionsOf(config);
  const key = createHash("sha256")
    .update(await modelDigest(model, { field: modelFieldOf(config, o), builtin: builtinOf(config, o), o }))
    .update(JSON.stringify(options))
    .digest("hex")
    .slice(0, 16);
  const bundles = join(o.cacheDir, "bundles");
  const dir = join(bundles, key);
  // read here, not in prepareBundle, so that a gradient graph it cannot build is placed in the split
  let loaded: Model | undefined;
  try {
    // made here (not by the fill-once lock's mkdir) so that a cache folder that is a file or cannot
    // be written is named as the bundles folder's, as before
    mkdirSync(bundles, { recursive: true });
    await cachedBundle({
      dir,
      prepare: (tmp) => {
        loaded = readModel(model);
        return prepareBundle({ model, out: tmp, loaded, ...options });
      },
      logFields: { model },
      logger: o.logger,
      signal: o.signal,
    });
  } catch (cause) {
    throw bundleCacheError(cause, bundles) ?? splitError(cause, config, model, loaded);
  }
  return dir;
}

/**
 * The splitter's refusal as the job's: it names sfprompt prepare's flags, the author wrote
 * spec.model.split & co. A gradient graph the engine cannot build (an op with no gradient rule) as
 * the job's too, under spec.model.source's field, naming the node, its op and its partition (`loaded`
 * split again), as sfprompt validate says it: no restart of the pod builds it (ADR 0023, amendment 31).
 */
function splitError(cause: unknown, config: RunConfig, model: string, loaded: Model | undefined): unknown {
  const refused =
    jobSplitRefusal(cause, config) ??
    jobGradientRefusal(cause, config, model, splitForMessage(loaded, splitOptionsOf(config)));
  return refused === undefined ? cause : new JobInputError(refused.field, refused.detail, { cause });
}

/**
 * A write under the bundles folder that the system refused (for a damaged cached copy, saying so),
 * as the cache setting's error; else undefined.
 */
function bundleCacheError(cause: unknown, bundles: string): JobInputError | undefined {
  const damaged = cause instanceof DamagedCopyError ? cause : undefined;
  let e = (damaged?.cause ?? cause) as NodeJS.ErrnoException;
  // the fill-once lock that could not be taken in the bundles folder: the system's error is its cause
  if (e instanceof CacheDirError) e = e.cause as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof e.syscall !== "string" || !e.path?.startsWith(bundles))
    return undefined;
  const unwritable = unwritableDetail(dirname(e.path), e);
  const why = unwritable === undefined ? ` (${e.code ?? e.syscall}: ${e.message})` : `: ${unwritable}`;
  const what =
    damaged === undefined
      ? "cannot prepare the model's bundle"
      : `${damaged.message}: the model's bundle cannot be prepared`;
  return new JobInputError(
    CACHE_DIR_SETTING,
    `${what} under ${bundles}${why}; set it to a folder this user can write (a writable volume), or give a prepared bundle (${BUNDLE_DIR_SETTING})`,
    { cause },
  );
}

/** Where a model file (and its data) is fixed, in a message. */
const MODEL_WHERE = "(on its volume or the node)";

/** Whether a model file (or its external data) is there; one this user may not read is `field`'s error. */
function modelFileThere(path: string, what: string, field: string): boolean {
  return pathIsThere(path, {
    target: { path, kind: "file", what, where: MODEL_WHERE, doc: "docs/images.md" },
    denied: (detail, cause) => new JobInputError(field, detail, { cause }),
    read: true,
  });
}

/** The ONNX model of the job in this process: --model-path, model.source.path, or a built-in model. */
export async function resolveModelPath(config: RunConfig, o: BundleInputs): Promise<string> {
  const source = config.model.source;
  const path = o.modelPath ?? source.path;
  if (path !== undefined) {
    const field = o.modelPath !== undefined ? "--model-path / SFPROMPT_MODEL_PATH" : "spec.model.source.path";
    // a file uid 10001 may not read (root's 0600 on a volume) was a bare EACCES when it was hashed, and
    // one behind a folder it may not search "did not exist"
    const there = modelFileThere(path, "the model file", field);
    if (!there)
      throw new JobInputError(field, `${path} does not exist in this container; mount the model there`);
    return path;
  }
  // a cached model.onnx that does not read is built again in place, under the lock: a pod restarts
  // into the same failure, with no one there to remove it (ADR 0017 amendment 32)
  if (source.builtin === "demo") {
    o.logger.log("info", "model.demo", { cacheDir: o.cacheDir });
    const demo = await withDemoModel(o.cacheDir, () =>
      ensureDemoModel({ cacheDir: o.cacheDir, signal: o.signal, rebuildDamaged: true }),
    );
    logRebuilt(o, dirname(demo.path), demo);
    return demo.path;
  }
  if (source.builtin === "minilm") {
    o.logger.log("info", "model.minilm", { cacheDir: o.cacheDir });
    const numClasses = config.classes.numClasses;
    const minilm = await withMinilmFiles(o.cacheDir, () =>
      ensureMinilmModel({ cacheDir: o.cacheDir, numClasses, rebuildDamaged: true }),
    );
    logRebuilt(o, dirname(minilm.path), minilm);
    return minilm.path;
  }
  const field = source.persistentVolumeClaim
    ? "spec.model.source.persistentVolumeClaim"
    : "spec.model.source.configMap";
  throw new JobInputError(
    field,
    "the model file is not mounted; set SFPROMPT_MODEL_PATH to where the volume puts it",
  );
}

/**
 * model.rebuilt (warn: dir, why) when a built-in model was built again over a damaged cached copy, and
 * model.damaged-left (warn: dir, error) when that copy's files could not be removed from beside it.
 */
function logRebuilt(
  o: BundleInputs,
  dir: string,
  built: { damaged?: string; damagedLeft?: LeftAside },
): void {
  if (built.damaged !== undefined) o.logger.log("warn", "model.rebuilt", { dir, why: built.damaged });
  if (built.damagedLeft !== undefined) o.logger.log("warn", "model.damaged-left", { ...built.damagedLeft });
}

/** The setting or job field that gave the model file. */
function modelFieldOf(config: RunConfig, o: BundleInputs): string {
  if (o.modelPath !== undefined) return "--model-path / SFPROMPT_MODEL_PATH";
  return config.model.source.path !== undefined ? "spec.model.source.path" : "spec.model.source";
}

/** The built-in model this process uses (its file is this image's own, in the cache folder), if any. */
function builtinOf(config: RunConfig, o: BundleInputs): string | undefined {
  return o.modelPath === undefined && config.model.source.path === undefined
    ? config.model.source.builtin
    : undefined;
}

/** Where the model file came from, for its refusals. */
interface ModelOrigin {
  /** The setting or job field that gave it. */
  readonly field: string;
  /** A built-in model (built into the cache folder by an earlier start), or undefined for the user's. */
  readonly builtin: string | undefined;
  readonly o: BundleInputs;
}

/** What to do with a file that holds no ONNX model (as sfprompt's CLI says it). */
const NOT_ONNX_HINT =
  "give the path of an ONNX model file (a PyTorch, safetensors or TensorFlow checkpoint is not one: " +
  "export it to ONNX first, e.g. with torch.onnx.export)";

/**
 * The sha256 of the model file and of the external data files it keeps its weights in (a model over
 * 2 GiB is two files or more: a change of its weights alone is a new bundle). A file that is no ONNX
 * model, a data file that is not there or cannot be read, or one outside the model's folder (ADR 0006
 * amendment 9) is a JobInputError naming `field`: they ended in runtime.failed (exit 3, restarted
 * into the same failure) when the splitter read them.
 */
async function modelDigest(model: string, origin: ModelOrigin): Promise<string> {
  const { field, builtin } = origin;
  let data: string[];
  try {
    data = externalDataFiles(model).map((d) => join(dirname(model), d));
  } catch (cause) {
    if (!(cause instanceof OnnxIoError)) throw cause;
    // a location outside the model's folder (/etc/passwd, ../x): neither hashed nor read; it says what to do
    if (cause instanceof ExternalDataLocationError) throw new JobInputError(field, cause.message, { cause });
    // a built-in model's file is this image's own: damaged in the cache folder, not the user's to export
    const detail =
      builtin === undefined
        ? `${cause.message}; ${NOT_ONNX_HINT}`
        : `builtin: ${builtin}: ${cause.message}; the cached model is damaged: remove its folder (rm -rf ${shellQuote(dirname(model))}) so that the next start builds it again (in the cache folder, ${CACHE_DIR_SETTING}, now ${origin.o.cacheDir})`;
    throw new JobInputError(field, detail, { cause });
  }
  for (const path of data) {
    const there = modelFileThere(path, "the model's external data file", field);
    if (!there)
      throw new JobInputError(
        field,
        `${model} keeps its weights in ${path} (ONNX external data), which is not there; put that file beside the model, as the export wrote them (mount or copy them together)`,
      );
  }
  const hash = createHash("sha256");
  for (const path of [model, ...data]) hash.update(await fileDigest(path, field));
  return hash.digest("hex");
}

/** A file's sha256; one that cannot be read is a JobInputError naming `field`. */
function fileDigest(path: string, field: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (b) => hash.update(b))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", (cause) =>
        reject(new JobInputError(field, `cannot read ${path}: ${cause.message}`, { cause })),
      );
  });
}
