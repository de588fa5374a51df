// mkdir -p for the CLI's folders (--out, the run directory), one level at a time and safe against
// processes that make the same levels at the same moment.
import { existsSync, mkdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** How often makeDirs looks again for a level removed after it found it there (see makeDirs). */
const MAKE_ATTEMPTS = 50;

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync loops forever (and handles no signal)
 * where mkdir answers ENOENT under a parent that exists, as in /proc. A level that another process
 * made first (runs or prepares started together under one new folder) is no error; a file in the way
 * stays EEXIST. A level found there and removed before the one under it was made (another run that
 * made it, releasing it empty: removeEmptyMadeDirs) is looked for again, up to MAKE_ATTEMPTS times,
 * so that only a parent that stays unusable (/proc) ends in ENOENT. Returns the folders this process
 * made, outermost first.
 */
export function makeDirs(dir: string): string[] {
  const made = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    const missing: string[] = [];
    for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
    try {
      for (const d of missing) if (mkdirIfMissing(d)) made.add(d);
      // outermost first: a folder's path is longer than those of the folders above it
      return [...made].sort((a, b) => a.length - b.length);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt === MAKE_ATTEMPTS) throw error;
    }
  }
}

/**
 * Undoes makeDirs(dir) after a failure: `dir` with what was written in it, if this process made it,
 * then each folder above it that it made, innermost first, while they are empty (one another process
 * has put something in since stays, with those above it).
 */
export function removeMadeDirs(made: readonly string[], dir: string): void {
  if (made.at(-1) !== resolve(dir)) return removeEmptyMadeDirs(made);
  try {
    rmSync(resolve(dir), { recursive: true, force: true });
  } catch {
    return;
  }
  removeEmptyMadeDirs(made.slice(0, -1));
}

/**
 * Removes the folders makeDirs made, innermost first, while they are empty: the first that is not
 * (written in, or filled by another process since) stays, with those above it.
 */
export function removeEmptyMadeDirs(made: readonly string[]): void {
  for (const d of [...made].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/** mkdir, unless the folder is there by now (made since this process looked): whether it made it. */
function mkdirIfMissing(d: string): boolean {
  try {
    mkdirSync(d);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !isFolder(d)) throw error;
    return false;
  }
}

function isFolder(d: string): boolean {
  try {
    return statSync(d).isDirectory();
  } catch {
    return false; // removed again meanwhile: the EEXIST stands
  }
}
