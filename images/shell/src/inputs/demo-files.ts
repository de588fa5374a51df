// The built-in demo model in a pod: pre-trained into the cache folder on first use, or read from it. A
// cache folder that cannot be created or written, or a broken cached entry, is the job's input to
// fix, named spec.model.source (as for minilm's files): a restart meets it again.
import { CacheDirError, DemoCacheError } from "@sfprompt/core";
import { CACHE_DIR_SETTING as SETTING, JobInputError } from "./errors.js";

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
  if (cause instanceof DemoCacheError)
    return say(`${cause.message} (in the cache folder, ${SETTING}, now ${cacheDir})`);
  const e = cause as NodeJS.ErrnoException;
  // a write in the cache folder that the system refused (permissions, a read-only volume, no space)
  if (e instanceof Error && typeof e.syscall === "string")
    return say(
      `the model cannot be written under ${cacheDir} (${e.code ?? e.syscall}: ${e.message}); set ${SETTING} to a folder this user can write`,
    );
  return undefined;
}

/** Runs `get` (a step that may build the demo model), turning a cache it cannot use into a JobInputError. */
export async function withDemoModel<T>(cacheDir: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (cause) {
    throw demoInputError(cause, cacheDir) ?? cause;
  }
}
