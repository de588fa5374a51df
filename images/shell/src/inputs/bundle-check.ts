// The start-up check of a partition bundle folder, given (--bundle-dir) or cached (prepared by an
// earlier start into the cache folder): its manifest and every file it names (ONNX files and their
// external data) are there and readable by this process's user, so that nothing is met only when a
// session opens, mid-round; the refusal names the setting that holds the folder and what to do.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { unreadableDetail } from "@sfprompt/core";
import { MANIFEST_FILE, ManifestError, manifestFiles, readPartitionManifest } from "@sfprompt/engine";
import { BUNDLE_DIR_SETTING, CACHE_DIR_SETTING, JobInputError } from "./errors.js";

/** Where the bundle folder came from: the user's (given), or this image's own cache (cached). */
export type BundleOrigin = "given" | "cached";

/** The setting a refusal names, and what to do about each kind of damage. */
interface Advice {
  readonly setting: string;
  /** The manifest is not there. */
  readonly noManifest: string;
  /** After "<file>, which its manifest.json names, cannot be opened (CODE); ". */
  readonly incomplete: string;
  /** After the manifest's own error. */
  readonly damaged: (problem: string) => string;
  /** After the unreadable file's fix. */
  readonly unreadable: string;
}

function adviceFor(dir: string, origin: BundleOrigin): Advice {
  if (origin === "given")
    return {
      setting: BUNDLE_DIR_SETTING,
      noManifest: `${dir} holds no ${MANIFEST_FILE}; run sfprompt prepare into it`,
      incomplete: "the bundle is incomplete: copy the whole folder again, or run sfprompt prepare into it",
      damaged: (problem) => `${problem} (run sfprompt prepare into ${dir} again)`,
      unreadable: "",
    };
  // the cache is the process's own: removing the copy is the whole fix (the next start prepares it)
  const remove = `remove ${dir} so that the next start prepares it again`;
  return {
    setting: CACHE_DIR_SETTING,
    noManifest: `the bundle cached in ${dir} has no ${MANIFEST_FILE}: ${remove}`,
    incomplete: `the bundle cached in ${dir} is incomplete: ${remove}`,
    damaged: (problem) => `${problem}; the bundle cached in ${dir} is damaged: ${remove}`,
    unreadable: `; or ${remove}`,
  };
}

/**
 * Refuses a bundle folder whose manifest or files this user cannot read, or that are gone, or whose
 * manifest is not one (each was met later: a folder the user cannot read looked empty, a file when its
 * session opened, a manifest when the bundle loaded).
 */
export function checkBundle(dir: string, origin: BundleOrigin): void {
  const advice = adviceFor(dir, origin);
  const refuse = (cause: unknown, otherwise: string): never => {
    const where = "(on its volume or the node)";
    const unreadable = unreadableDetail({ path: dir, kind: "folder", where, doc: "docs/images.md" }, cause);
    const detail = unreadable === undefined ? otherwise : `${unreadable}${advice.unreadable}`;
    throw new JobInputError(advice.setting, detail, { cause });
  };
  try {
    accessSync(join(dir, MANIFEST_FILE), constants.R_OK);
  } catch (cause) {
    refuse(cause, advice.noManifest);
  }
  for (const file of bundleFiles(dir, advice)) {
    try {
      accessSync(join(dir, file), constants.R_OK);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
      refuse(
        cause,
        `${join(dir, file)}, which its ${MANIFEST_FILE} names, cannot be opened (${code}); ${advice.incomplete}`,
      );
    }
  }
}

/** The files `dir`'s manifest names; a manifest that is not one is the setting's error. */
function bundleFiles(dir: string, advice: Advice): string[] {
  try {
    return manifestFiles(readPartitionManifest(dir));
  } catch (cause) {
    if (!(cause instanceof ManifestError)) throw cause;
    throw new JobInputError(advice.setting, advice.damaged(cause.problem), { cause });
  }
}
