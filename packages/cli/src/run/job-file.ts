// Reads the SFPromptJob manifest `sfprompt run` was given (the same YAML `kubectl apply` takes) and
// applies command-line overrides; validation errors name the field (spec.training.rounds, ...).
import { readFileSync } from "node:fs";
import { loadJobManifest, toRunConfig, type Method, type RunConfig, type SFPromptJob } from "@sfprompt/api";
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
  if (overrides.rounds !== undefined) job.spec.training.rounds = overrides.rounds;
  return job;
}

/** The run config of `job` run with `method` (baselines get their own job name: <name>-<method>). */
export function runConfigFor(job: SFPromptJob, method: Method): RunConfig {
  if (method === job.spec.method) return toRunConfig(job);
  const copy = structuredClone(job);
  copy.metadata.name = `${job.metadata.name}-${method}`;
  copy.spec.method = method;
  return toRunConfig(copy);
}
