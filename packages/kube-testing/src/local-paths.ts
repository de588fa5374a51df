// Local paths the test helpers share: the cache they fill once per machine, and whether a file runs.
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The root of sfprompt's cache: $SFPROMPT_CACHE, else ~/.cache/sfprompt. */
export function sfpromptCacheRoot(): string {
  return process.env.SFPROMPT_CACHE ?? join(homedir(), ".cache", "sfprompt");
}

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
