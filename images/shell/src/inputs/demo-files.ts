// The built-in demo model in a pod: pre-trained into the cache folder on first use, or read from it. A
// cache folder that cannot be created or written, a broken cached entry, or pre-training data that is
// missing, corrupt or unreadable (Fashion-MNIST) is the job's input to fix, named spec.model.source (as
// for minilm's files): a restart meets it again.
import { isAbsolute, relative, resolve } from "node:path";
import {
  CacheDirError,
  DatasetFormatError,
  DatasetNotFoundError,
  DatasetUnreadableError,
  DemoCacheError,
  LabelError,
  unreadableDetail,
} from "@sfprompt/core";
import { builtinCacheMessage, CACHE_DIR_SETTING as SETTING, JobInputError } from "./errors.js";

const FIELD = "spec.model.source";

/** The JobInputError of spec.model.source for a demo model the cache cannot give; else undefined. */
export function demoInputError(cause: unknown, cacheDir: string): JobInputError | undefined {
  const say = (detail: string): JobInputError =>
    new JobInputError(FIELD, `builtin: demo: ${detail}`, { cause });
  // CacheDirError's own advice names the CLI's SFPROMPT_CACHE; the images read SETTING
  if (cause instanceof CacheDirError)
    return say(
      `its cache folder ${cause.path} ${cause.detail}; set ${SETTING} (now ${cacheDir}) to a folder this user can write (a writable volume)`,
    );
  if (cause instanceof DemoCacheError) {
    const message = builtinCacheMessage(cause, (path, detail) => new DemoCacheError(path, detail));
    return say(`${message} (in the cache folder, ${SETTING}, now ${cacheDir})`);
  }
  const data = pretrainingDataDetail(cause, cacheDir);
  if (data !== undefined)
    return say(
      `the model is not in the cache folder and cannot be pre-trained: ${data}; the images install ` +
        `Debian's dataset-fashion-mnist unless built with DEBIAN_DATASETS="" (images/Dockerfile); or put ` +
        `a demo model pre-trained elsewhere (sfprompt demo-model --cache DIR writes DIR/models/…) into ` +
        `the cache folder's models/ (${SETTING}, now ${cacheDir})`,
    );
  const e = cause as NodeJS.ErrnoException;
  // any other system error on a path outside the cache folder (EIO, ELOOP on a Fashion-MNIST file) is
  // no write the cache refused: left to runtime.failed, whose message names the path (ADR 0017
  // amendments 13 and 16)
  if (e instanceof Error && e.path !== undefined && !isInside(e.path, cacheDir)) return undefined;
  // a write in the cache folder that the system refused (permissions, a read-only volume, no space)
  if (e instanceof Error && typeof e.syscall === "string")
    return say(
      `the model cannot be written under ${cacheDir} (${e.code ?? e.syscall}: ${e.message}); set ${SETTING} to a folder this user can write`,
    );
  return undefined;
}

/**
 * What is wrong with the Fashion-MNIST files pre-training reads: missing, not IDX, labels out of
 * range, or unreadable by this user (a system error on a path outside the cache folder); else
 * undefined. Another system error outside the cache folder (EIO, EMFILE) may pass: none.
 */
function pretrainingDataDetail(cause: unknown, cacheDir: string): string | undefined {
  if (
    cause instanceof DatasetNotFoundError ||
    cause instanceof DatasetFormatError ||
    cause instanceof LabelError
  )
    return cause.message;
  const denied = builtinDataUnreadable(cause);
  if (denied !== undefined) return denied;
  const e = cause as NodeJS.ErrnoException;
  if (!(e instanceof Error) || e.path === undefined || isInside(e.path, cacheDir)) return undefined;
  return unreadableDetail({ path: e.path, kind: "file", where: IN_IMAGE, doc: "docs/datasets.md" }, cause);
}

const IN_IMAGE = "in the image or on its volume";

/**
 * A built-in dataset's folder this user may not search, or file it may not read (Fashion-MNIST's,
 * for pre-training or as the job's data), said for where it is in a pod; the error itself says "on
 * this machine". Else undefined.
 */
export function builtinDataUnreadable(cause: unknown): string | undefined {
  if (!(cause instanceof DatasetUnreadableError)) return undefined;
  return unreadableDetail({ ...cause.target, where: IN_IMAGE }, cause);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Runs `get` (a step that may build the demo model), turning a cache it cannot use into a JobInputError. */
export async function withDemoModel<T>(cacheDir: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (cause) {
    throw demoInputError(cause, cacheDir) ?? cause;
  }
}
