// Reads the run config the process works from: a YAML/JSON file holding an SFPromptRunConfig (the
// operator's ConfigMap, `sfprompt run`'s file) or an SFPromptJob manifest (resolved with toRunConfig),
// validated with the api's schemas; checks it against the identity the env vars claim.
import { readFile } from "node:fs/promises";
import yaml from "js-yaml";
import {
  KIND,
  RunConfigSchema,
  parseJob,
  firstFieldError,
  toFieldErrors,
  toRunConfig,
  type FieldError,
  type RunConfig,
} from "@sfprompt/api";
import { unreadableDetail } from "@sfprompt/core";
import { ConfigFileError } from "./errors.js";
import type { ProcessSettings } from "./settings.js";

export type ConfigSource = "run-config" | "job-manifest";

export interface LoadedConfig {
  readonly config: RunConfig;
  readonly source: ConfigSource;
}

/** Reads, parses and validates the file at `path`; throws ConfigFileError naming the first bad field. */
export async function readRunConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    const unreadable = unreadableDetail({ path, kind: "file", where: "(on its volume or the node)" }, cause);
    const detail = unreadable ?? `cannot be read: ${(cause as Error).message}`;
    throw new ConfigFileError(path, "(file)", detail, { cause });
  }
  return parseRunConfigText(path, text);
}

/** Parses run config text (YAML or JSON); `path` only names the source in errors. */
export function parseRunConfigText(path: string, text: string): LoadedConfig {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (cause) {
    throw new ConfigFileError(path, "(file)", `is neither YAML nor JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigFileError(path, "(root)", "must be an object (an SFPromptRunConfig or an SFPromptJob)");
  }
  if ((doc as { kind?: unknown }).kind === KIND) {
    const job = parseJob(doc);
    if (!job.ok) throw fieldError(path, job.errors);
    return { config: toRunConfig(job.value), source: "job-manifest" };
  }
  // reportInput: without it a value of the wrong type reads as missing ("is required"); no kubectl
  // explain: it knows the job's paths, not the run config's (training, not spec.training)
  const parsed = RunConfigSchema.safeParse(doc, { reportInput: true });
  if (!parsed.success)
    throw fieldError(path, toFieldErrors(parsed.error, "", { explain: false }), parsed.error);
  return { config: parsed.data, source: "run-config" };
}

function fieldError(path: string, errors: FieldError[], cause?: unknown): ConfigFileError {
  const { path: field, message } = firstFieldError(errors);
  return new ConfigFileError(path, field, message, { cause: cause ?? errors });
}

/**
 * Checks the config against what the env vars say (job, namespace, subject prefix, client count,
 * client index): a mismatch means a wrong mount or a stale ConfigMap, which must not train silently.
 */
export function checkIdentity(path: string, config: RunConfig, settings: ProcessSettings): void {
  const { expect } = settings;
  const mismatch = (field: string, envVar: string, want: unknown, got: unknown): never => {
    throw new ConfigFileError(
      path,
      field,
      `is ${JSON.stringify(got)} but ${envVar} says ${JSON.stringify(want)}; the mounted config belongs to another job`,
    );
  };
  if (expect.job !== undefined && expect.job !== config.job.name)
    mismatch("job.name", "SFPROMPT_JOB", expect.job, config.job.name);
  if (expect.namespace !== undefined && expect.namespace !== config.job.namespace)
    mismatch("job.namespace", "SFPROMPT_NAMESPACE", expect.namespace, config.job.namespace);
  if (expect.subjectPrefix !== undefined && expect.subjectPrefix !== config.names.subjectPrefix)
    mismatch(
      "names.subjectPrefix",
      "SFPROMPT_SUBJECT_PREFIX",
      expect.subjectPrefix,
      config.names.subjectPrefix,
    );
  if (expect.clientCount !== undefined && expect.clientCount !== config.clients.count)
    mismatch("clients.count", "SFPROMPT_CLIENT_COUNT", expect.clientCount, config.clients.count);
  const index = settings.clientIndex;
  if (index !== undefined && index >= config.clients.count) {
    throw new ConfigFileError(
      path,
      "clients.count",
      `is ${config.clients.count}, so client index ${index} (--client-index / SFPROMPT_CLIENT_INDEX) is out of range; use 0..${config.clients.count - 1}`,
    );
  }
}

/** The config with the settings' overrides applied (NATS URL, execution provider). */
export function applyOverrides(config: RunConfig, settings: ProcessSettings): RunConfig {
  const provider = settings.executionProvider;
  return {
    ...config,
    transport:
      settings.natsUrl !== undefined ? { ...config.transport, url: settings.natsUrl } : config.transport,
    server: provider !== undefined ? { ...config.server, executionProvider: provider } : config.server,
  };
}
