// What every role resolves first: that this image runs the job's method, and the bundle inputs from
// the process settings.
import type { RoleContext } from "../role.js";
import type { BundleInputs } from "./bundle-dir.js";
import { JobInputError } from "./errors.js";

/** Throws a JobInputError naming `method` unless it is one of the methods this image runs. */
export function requireImageMethod(method: string, runs: readonly string[]): void {
  if (!runs.includes(method)) {
    throw new JobInputError(
      "spec.method",
      `${method} runs only with sfprompt run (this image runs ${runs.join(", ")})`,
    );
  }
}

/** The bundle inputs of a role's process: its settings' bundle, model and cache paths. */
export function roleBundleInputs(ctx: Pick<RoleContext, "settings" | "logger" | "signal">): BundleInputs {
  const { settings, logger, signal } = ctx;
  return {
    bundleDir: settings.bundleDir,
    modelPath: settings.modelPath,
    cacheDir: settings.cacheDir,
    logger,
    signal,
  };
}
