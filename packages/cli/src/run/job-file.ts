// Reads the SFPromptJob manifest `sfprompt run` was given (the same YAML `kubectl apply` takes) and
// applies command-line overrides; validation errors name the field (spec.training.rounds, ...).
import { readFileSync } from "node:fs";
import {
  loadJobManifest,
  parseJob,
  toRunConfig,
  type Method,
  type RunConfig,
  type SFPromptJob,
} from "@sfprompt/api";
import { JobFileError } from "./errors.js";

export interface JobOverrides {
  readonly rounds?: number;
}

/** The validated, defaulted job of the manifest at `path`. */
export function readJobFile(path: string, overrides: JobOverrides = {}): SFPromptJob {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new JobFileError(
      path,
      `cannot read the job file (${(cause as NodeJS.ErrnoException).code ?? "error"})`,
      {
        cause,
      },
    );
  }
  const job = structuredClone(loadJobManifest(text));
  if (overrides.rounds === undefined) return job;
  job.spec.training.rounds = overrides.rounds;
  // the manifest's limits hold for the override too (spec.training.rounds ≤ 100000)
  const checked = parseJob(job);
  if (!checked.ok)
    throw new JobFileError(
      path,
      `--rounds ${overrides.rounds} does not fit the job: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
    );
  return checked.value;
}

/** The run config of `job` run with `method` (baselines get their own job name: <name>-<method>). */
export function runConfigFor(job: SFPromptJob, method: Method): RunConfig {
  if (method === job.spec.method) return toRunConfig(job);
  const copy = structuredClone(job);
  copy.metadata.name = `${job.metadata.name}-${method}`;
  copy.spec.method = method;
  return toRunConfig(copy);
}
