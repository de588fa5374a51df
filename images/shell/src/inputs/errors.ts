// Errors of resolving a process's inputs (model, partition bundle, data) from the run config.
import { unreadableCopyDetail } from "@sfprompt/core";

// The model, bundle or data the run config names cannot be had in this process (one class with
// sfprompt run's processes).
export { JobInputError } from "@sfprompt/core";

/** The process setting of its cache folder, as the images read it (the CLI's is SFPROMPT_CACHE). */
export const CACHE_DIR_SETTING = "--cache-dir / SFPROMPT_CACHE_DIR";

/** The process setting of a prepared bundle folder it is given. */
export const BUNDLE_DIR_SETTING = "--bundle-dir / SFPROMPT_BUNDLE_DIR";

/**
 * The message of a built-in model's cache error (DemoCacheError, MinilmCacheError) said for a pod: a
 * cached copy this user may not read has its chmod fixed on the cache's volume, not "on this machine"
 * as core says it for the CLI (ADR 0017 amendment 35); `again` makes the same error with that
 * detail. Other errors' messages as they are.
 */
export function builtinCacheMessage<E extends Error & { readonly path: string }>(
  cause: E,
  again: (path: string, detail: string) => E,
): string {
  const unreadable = unreadableCopyDetail(cause.path, cause, "(on its volume or the node)");
  return unreadable === undefined ? cause.message : again(cause.path, unreadable).message;
}
