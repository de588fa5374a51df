// The folder a command writes to (--out): made before the command's long work, so one that cannot be
// made is named at once, with an OutDirError instead of a stack trace or a hang.
import { statSync } from "node:fs";
import { OutDirError } from "./errors.js";
import { makeDirs } from "./make-dirs.js";

/**
 * Creates `dir` one level at a time (a recursive mkdir loops forever under /proc): the folder --out
 * names, or (for a file) the one that holds it. `out` is the flag's value, for the error. Returns the
 * folders it made (for removeMadeDirs after a failure), outermost first.
 */
export function makeOutDir(dir: string, out = dir): string[] {
  const what = dir === out ? "" : `its folder ${dir} `;
  let created: string[];
  try {
    created = makeDirs(dir);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new OutDirError(out, `${what}cannot be created (${code})`, { cause });
  }
  if (!statSync(dir).isDirectory()) throw new OutDirError(out, `${what}exists and is not a folder`);
  return created;
}
