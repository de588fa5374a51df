// The flags sfprompt run and sfprompt validate share, parsed the same way for both.
import { UsageError } from "../errors.js";
import type { ResumeMode } from "./run-dir.js";

/** --rounds N (a whole number ≥ 1); `command` names the command in the error. */
export function roundsFlag(v: string | boolean | undefined, command = "run"): number | undefined {
  if (v === undefined) return undefined;
  // digits only: Number() would also take "1e3" (1000 rounds) and "0x10" (16)
  const n = /^\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${command}: --rounds must be a whole number ≥ 1 (got "${String(v)}")`);
  return n;
}

/** --resume / --fresh / neither; `command` names the command in the error. */
export function modeOf(resume: boolean, fresh: boolean, command = "run"): ResumeMode {
  if (resume && fresh) throw new UsageError(`${command}: --resume and --fresh exclude each other; give one`);
  return resume ? "resume" : fresh ? "fresh" : "auto";
}
