// Which methods a run trains: the job's own, and with --compare the baselines (all of them, or those
// --methods names), in the comparison table's order.
import { METHODS, type Method } from "@sfprompt/api";
import { UsageError } from "../errors.js";
import { COMPARE_ORDER } from "./compare.js";

/**
 * Parses --methods (comma-separated method names, sfprompt among them: a job of a baseline method
 * compares with it); undefined when the flag is absent. `command` names the command in errors.
 */
export function parseMethodsFlag(v: string | boolean | undefined, command = "run"): Method[] | undefined {
  if (v === undefined) return undefined;
  const names = String(v === true ? "" : v)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0)
    throw new UsageError(
      `${command}: --methods needs a comma-separated list of methods (${METHODS.join(", ")})`,
    );
  for (const n of names) {
    if (!(METHODS as readonly string[]).includes(n))
      throw new UsageError(`${command}: --methods: unknown method "${n}"; choose from ${METHODS.join(", ")}`);
  }
  return [...new Set(names as Method[])];
}

/** The job's method first, then (when comparing) the other methods asked for, in table order. */
export function methodsToRun(jobMethod: Method, compare: boolean, only?: readonly Method[]): Method[] {
  if (!compare) return [jobMethod];
  const others = COMPARE_ORDER.filter((m) => m !== jobMethod && (only === undefined || only.includes(m)));
  return [jobMethod, ...others];
}
