// What `mkdir -p FOLDER` and then an exclusive create in FOLDER would meet, found without writing:
// the checks before a start (sfprompt validate, sfprompt run) of a cache folder not filled yet
// (fill-once.ts fillProblem) and of a run directory (the CLI's run-dir-writable.ts), each of which
// words the outcome as the write it predicts would fail.
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** `folder` itself (resolved) when it is there, else the folder above it that its first missing folder is made in. */
export function firstFolderThere(folder: string): string {
  let there = resolve(folder);
  while (!existsSync(there) && dirname(there) !== there) there = dirname(there);
  return there;
}

/**
 * Why the writes into `folder` would fail, or undefined: the first folder there (`there`; `self`
 * when it is `folder` itself) is not a folder, or this user cannot write in and search it (W_OK |
 * X_OK, as mkdir and an exclusive create need; `cause` is access's error).
 */
export type WriteProbe =
  | { readonly kind: "not-a-folder"; readonly there: string; readonly self: boolean }
  | { readonly kind: "no-access"; readonly there: string; readonly self: boolean; readonly cause: unknown };

/** What the writes into `folder` would meet (WriteProbe), or undefined when they would pass this far. */
export function writeProbe(folder: string): WriteProbe | undefined {
  const there = firstFolderThere(folder);
  const self = there === resolve(folder);
  if (!statSync(there).isDirectory()) return { kind: "not-a-folder", there, self };
  try {
    accessSync(there, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (cause) {
    return { kind: "no-access", there, self, cause };
  }
}
