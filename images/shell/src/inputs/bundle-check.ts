// The start-up check of a partition bundle folder, given (--bundle-dir) or cached (prepared by an
// earlier start into the cache folder): its manifest and every file it names (ONNX files and their
// external data) are there and readable by this process's user, so that nothing is met only when a
// session opens, mid-round. A given folder's damage is refused naming its setting and what to do; a
// cached copy's is told to the cache (bundle-cache.ts), which prepares it again.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { shellQuote, type RunConfig } from "@sfprompt/api";
import { prepareCommandOf, unreadableDetail } from "@sfprompt/core";
import {
  ExternalDataLocationError,
  MANIFEST_FILE,
  ManifestError,
  manifestFiles,
  manifestGraphFiles,
  OnnxIoError,
  readModelOutline,
  readPartitionManifest,
} from "@sfprompt/engine";
import { BUNDLE_DIR_SETTING, CACHE_DIR_SETTING, JobInputError } from "./errors.js";

/** Where the bundle folder came from: the user's (given), or this image's own cache (cached). */
export type BundleOrigin = "given" | "cached";

/** What is missing or damaged in a bundle folder that this user may read: preparing it again mends it. */
export type BundleDamage =
  | { readonly kind: "no-manifest" }
  | { readonly kind: "incomplete"; readonly path: string; readonly code: string }
  | { readonly kind: "not-a-manifest"; readonly problem: string };

/** The damage in words, without what to do about it. */
export function damageText(dir: string, damage: BundleDamage): string {
  switch (damage.kind) {
    case "no-manifest":
      return `${dir} holds no ${MANIFEST_FILE}`;
    case "incomplete":
      return `${damage.path}, which its ${MANIFEST_FILE} names, cannot be opened (${damage.code})`;
    case "not-a-manifest":
      return damage.problem;
  }
}

/**
 * What to do about a given bundle folder that is missing or damaged (ADR 0017 amendment 29): the
 * `sfprompt prepare` command of the job's model file and split, the folder quoted, or (a built-in
 * model, no file to name) to give no folder, so that this process prepares the bundle itself.
 */
function prepareAgain(dir: string, config: RunConfig, modelPath?: string): string {
  const unset = `give no bundle folder (unset ${BUNDLE_DIR_SETTING})`;
  const command = prepareCommandOf(config, dir, modelPath ?? config.model.source.path);
  if (command === undefined)
    return `${unset} so that this process prepares the built-in model's bundle itself`;
  return (
    `prepare it where the job's model file is: ${command} ` +
    `(${modelPath === undefined ? "spec.model.source.path" : "--model-path"} and the job's split), or ${unset} so that this process prepares it from spec.model.source`
  );
}

/**
 * Refuses a given bundle folder whose manifest or files this user cannot read, or that are gone, or
 * whose manifest is not one (each was met later: a folder the user cannot read looked empty, a file
 * when its session opened, a manifest when the bundle loaded), or whose graphs are no ONNX models,
 * keep their data outside the folder or in a data file cut short (checkGraphs). What to do is prepareAgain's.
 */
export function checkBundle(dir: string, config: RunConfig, modelPath?: string): void {
  const damage = bundleDamage(dir, "given");
  if (damage === undefined) return checkGraphs(dir, config, modelPath);
  const detail =
    damage.kind === "incomplete"
      ? `${damageText(dir, damage)}; the bundle is incomplete: copy the whole folder again, or ${prepareAgain(dir, config, modelPath)}`
      : `${damageText(dir, damage)}; ${prepareAgain(dir, config, modelPath)}`;
  throw new JobInputError(BUNDLE_DIR_SETTING, detail);
}

/**
 * Refuses a given bundle whose graph is no ONNX model, keeps its external data outside its folder
 * (ADR 0006 amendment 11) or names a range its external data file does not hold (a file cut short,
 * ADR 0017 amendment 33): each graph's outline is read and its data files' sizes checked, not their
 * bytes. Each was met when the graph's session opened (a gradient graph: mid-round), the location
 * by ORT or the engine's check. A cached copy is this image's own, written by prepare; it is not
 * read here.
 */
function checkGraphs(dir: string, config: RunConfig, modelPath?: string): void {
  for (const file of manifestGraphFiles(readPartitionManifest(dir))) {
    try {
      readModelOutline(join(dir, file), { checkExternalData: true });
    } catch (cause) {
      if (!(cause instanceof OnnxIoError)) throw cause;
      const kind =
        cause instanceof ExternalDataLocationError ? "a graph of the bundle" : "the bundle is damaged";
      throw new JobInputError(
        BUNDLE_DIR_SETTING,
        `${cause.message} (${kind}); ${prepareAgain(dir, config, modelPath)}`,
        {
          cause,
        },
      );
    }
  }
}

/**
 * The refusal of a bundle folder `dir` a file or folder of which this process's user may not read
 * (`cause`, a permission error): its setting, the user, the chmod, and for a cached copy the rm that
 * lets the next start prepare it again. Undefined for another error.
 */
export function unreadableRefusal(
  dir: string,
  origin: BundleOrigin,
  cause: unknown,
): JobInputError | undefined {
  const where = "(on its volume or the node)";
  const unreadable = unreadableDetail({ path: dir, kind: "folder", where, doc: "docs/images.md" }, cause);
  if (unreadable === undefined) return undefined;
  if (origin === "given") return new JobInputError(BUNDLE_DIR_SETTING, unreadable, { cause });
  const remove = `; or remove the cached copy (rm -rf ${shellQuote(dir)}) so that the next start prepares it again`;
  return new JobInputError(CACHE_DIR_SETTING, `${unreadable}${remove}`, { cause });
}

/**
 * What is missing or damaged in the bundle folder `dir`, else undefined. A folder or file there that
 * this process's user may not read is refused (JobInputError of the origin's setting, with the user
 * and the chmod): preparing the bundle again does not mend another user's files.
 */
export function bundleDamage(dir: string, origin: BundleOrigin): BundleDamage | undefined {
  const refuseUnreadable = (cause: unknown): void => {
    const refusal = unreadableRefusal(dir, origin, cause);
    if (refusal !== undefined) throw refusal;
  };
  try {
    accessSync(join(dir, MANIFEST_FILE), constants.R_OK);
  } catch (cause) {
    refuseUnreadable(cause);
    return { kind: "no-manifest" };
  }
  let files: string[];
  try {
    files = manifestFiles(readPartitionManifest(dir));
  } catch (cause) {
    if (!(cause instanceof ManifestError)) throw cause;
    return { kind: "not-a-manifest", problem: cause.problem };
  }
  for (const file of files) {
    try {
      accessSync(join(dir, file), constants.R_OK);
    } catch (cause) {
      refuseUnreadable(cause);
      const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
      return { kind: "incomplete", path: join(dir, file), code };
    }
  }
  return undefined;
}
