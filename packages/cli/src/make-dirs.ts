// mkdir -p for the CLI's folders (--out, the run directory), one level at a time and safe against
// processes that make the same levels at the same moment.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync loops forever (and handles no signal)
 * where mkdir answers ENOENT under a parent that exists, as in /proc. A level that another process
 * made first (runs or prepares started together under one new folder) is no error; a file in the way
 * stays EEXIST. Returns whether this process made any level.
 */
export function makeDirs(dir: string): boolean {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  let made = false;
  for (const d of missing) made = mkdirIfMissing(d) || made;
  return made;
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
