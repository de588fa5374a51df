// The built-in MiniLM's files in a pod: fetched into the cache folder on first use, or put there by
// hand. Not getting them (no index reachable, a cache folder that cannot be written, files that are
// not the pinned ones) is the job's input to fix, named spec.model.source: a restart meets it again.
import {
  CacheDirError,
  MinilmCacheError,
  MinilmChecksumError,
  MinilmDownloadError,
  SafetensorsFormatError,
  SafetensorsTensorError,
  isVocabError,
  minilmVocabularyDetail,
} from "@sfprompt/core";
import { builtinCacheMessage, CACHE_DIR_SETTING as SETTING, JobInputError } from "./errors.js";

const FIELD = "spec.model.source";

/** The JobInputError of spec.model.source for a failure to get builtin minilm's files; else undefined. */
export function minilmInputError(cause: unknown, cacheDir: string): JobInputError | undefined {
  const say = (detail: string): JobInputError =>
    new JobInputError(FIELD, `builtin: minilm: ${detail}`, { cause });
  if (cause instanceof CacheDirError)
    return say(
      `its cache folder ${cause.path} ${cause.detail}; set ${SETTING} to a folder this user can write (a writable volume), or put the pinned files there beforehand (docs/images.md)`,
    );
  if (cause instanceof MinilmDownloadError)
    return say(`${cause.message} (the cache folder is ${SETTING}, now ${cacheDir})`);
  if (cause instanceof MinilmCacheError) {
    const message = builtinCacheMessage(cause, (path, detail) => new MinilmCacheError(path, detail));
    return say(`${message} (in the cache folder, ${SETTING}, now ${cacheDir})`);
  }
  if (
    cause instanceof MinilmChecksumError ||
    cause instanceof SafetensorsFormatError ||
    cause instanceof SafetensorsTensorError
  )
    return say(`${cause.message} (in the cache folder, ${SETTING}, now ${cacheDir})`);
  // the vocabulary is one of minilm's files, not a field of the job (which has no tokenizer.vocabulary)
  if (isVocabError(cause)) return say(minilmVocabularyDetail(cause.message, cacheDir, SETTING));
  const e = cause as NodeJS.ErrnoException;
  // a read or write in the cache folder that the system refused (permissions, a read-only volume, no space)
  if (e instanceof Error && typeof e.syscall === "string")
    return say(
      `its files cannot be read or written under ${cacheDir} (${e.code ?? e.syscall}: ${e.message}); set ${SETTING} to a folder this user can write`,
    );
  return undefined;
}

/** Runs `get` (a step that may fetch minilm's files), turning a failure to get them into a JobInputError. */
export async function withMinilmFiles<T>(cacheDir: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (cause) {
    throw minilmInputError(cause, cacheDir) ?? cause;
  }
}
