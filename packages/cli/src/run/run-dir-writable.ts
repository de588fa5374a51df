// Whether `sfprompt run` could make its run directory and create its lock there, told without
// writing (sfprompt validate), and the errors lockRunDir (run-lock.ts) stops with when it cannot:
// one set of words for both, the check finding them from the first folder there and this user's access.
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { RunDirError } from "./errors.js";

/** What to do about a run directory that cannot be made or read (lockRunDir's errors). */
export const CHOOSE_ANOTHER_RUN_DIR = "choose another folder with --out DIR (or spec.output.path)";
const CHOOSE_WRITABLE = "choose a writable folder with --out DIR (or spec.output.path)";

/**
 * The error of a run directory (or a folder above it) mkdir refused with `code` (EEXIST: a file is
 * where the run directory would be).
 */
export function runDirNotCreated(dir: string, code: string, cause?: unknown): RunDirError {
  const what = code === "EEXIST" ? "exists and is not a folder" : `cannot be created (${code})`;
  return new RunDirError(dir, `${what}; ${CHOOSE_ANOTHER_RUN_DIR}`, { cause });
}

/** The error of a run directory whose lock file could not be created (`code`). */
export function runDirNotWritable(dir: string, code: string, cause?: unknown): RunDirError {
  return new RunDirError(dir, `cannot be written (${code}); ${CHOOSE_WRITABLE}`, { cause });
}

/**
 * The error lockRunDir would stop with making `dir` or creating its lock, or undefined: the first
 * folder there (`dir` itself, or the one above it that the first missing folder would be made in)
 * must be a folder this user can write in and search (W_OK | X_OK, as mkdir and an exclusive create
 * need). Another run's lock, or a lock that cannot be read, is checkRunDirFree's.
 */
export function runDirWriteProblem(dir: string): RunDirError | undefined {
  const own = resolve(dir);
  let there = own;
  while (!existsSync(there) && dirname(there) !== there) there = dirname(there);
  const isDir = there === own;
  if (!statSync(there).isDirectory()) return runDirNotCreated(dir, isDir ? "EEXIST" : "ENOTDIR");
  try {
    accessSync(there, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    return isDir ? runDirNotWritable(dir, code, cause) : runDirNotCreated(dir, code, cause);
  }
}
