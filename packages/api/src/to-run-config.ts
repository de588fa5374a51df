// Derives the run config from a validated job: pure, deterministic, no I/O; the operator renders it
// into a ConfigMap and `sfprompt run` writes it to a file.
import { resolveCount } from "./count-or-fraction.js";
import type { SFPromptJob } from "./job.js";
import {
  RUN_CONFIG_KIND,
  RUN_CONFIG_VERSION,
  RunConfigSchema,
  type Effective,
  type RunConfig,
} from "./run-config.js";
import type { Method, Spec } from "./spec.js";

/** Namespace used when a manifest names none (as kubectl would). */
export const DEFAULT_NAMESPACE = "default";

/** Longest job token the data plane accepts (packages/protocol names.ts). */
export const MAX_JOB_TOKEN = 64;

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * The token that names a job on the data plane: `<namespace>_<name>` with dots in the name turned
 * into `_`. Namespaces hold no `_` and DNS names no `_`, so the token is unique per job; tokens
 * longer than 64 characters are cut and suffixed with a hash of the whole token.
 */
export function jobToken(namespace: string, name: string): string {
  const token = `${namespace}_${name.replace(/\./g, "_")}`;
  if (token.length <= MAX_JOB_TOKEN) return token;
  return `${token.slice(0, MAX_JOB_TOKEN - 9)}-${fnv1a(token)}`;
}

/**
 * Names of the job's NATS resources. Subjects, streams and the state bucket are built from `job` by
 * packages/protocol (sfp.<job>.…); only the artifact bucket can be overridden in the spec.
 */
export function natsNames(namespace: string, name: string, bucket?: string): RunConfig["names"] {
  const job = jobToken(namespace, name);
  return { job, subjectPrefix: `sfp.${job}`, bucket: bucket ?? `sfp-${job}-artifacts` };
}

/** What each method turns on. Baselines ignore the pruning and local-loss switches. */
export function effectiveFor(method: Method, spec: Spec): Effective {
  const base = {
    splitTraining: false,
    localLoss: false,
    pruning: false,
    clientRunsWholeModel: true,
    trainAllWeights: false,
    federated: true,
    promptGradientOverNetwork: false,
  };
  switch (method) {
    case "sfprompt":
      return {
        ...base,
        splitTraining: true,
        clientRunsWholeModel: false,
        localLoss: spec.training.localLoss.enabled,
        pruning: spec.training.pruning.enabled,
        promptGradientOverNetwork: spec.prompts.promptGradient === "full",
      };
    case "sfl-prompt":
      return { ...base, splitTraining: true, clientRunsWholeModel: false, promptGradientOverNetwork: true };
    case "fl-prompt":
      return base;
    case "fl-full":
      return { ...base, trainAllWeights: true };
    case "centralized":
      return { ...base, federated: false };
  }
}

/** The method's optimizer: fl-full takes fullFineTuningLearningRate when the job sets one. */
function optimizerFor(spec: SFPromptJob["spec"]): SFPromptJob["spec"]["training"]["optimizer"] {
  const o = spec.training.optimizer;
  if (spec.method !== "fl-full" || o.fullFineTuningLearningRate === undefined) return o;
  return { ...o, learningRate: o.fullFineTuningLearningRate };
}

/** The source job of spec.output.resumeFrom as the server reads it: its token and bucket (or nothing). */
function resumeSource(namespace: string, spec: Spec): Pick<RunConfig["output"], "resumeFrom"> {
  const from = spec.output.resumeFrom;
  if (from === undefined) return {};
  const { job: token, bucket } = natsNames(namespace, from.job, from.bucket);
  return { resumeFrom: { job: from.job, token, bucket } };
}

/** The resolved config the server and client processes read. */
export function toRunConfig(job: SFPromptJob): RunConfig {
  const { spec, metadata } = job;
  const namespace = metadata.namespace ?? DEFAULT_NAMESPACE;
  const names = natsNames(namespace, metadata.name, spec.output.bucket);
  const perRound = Math.min(resolveCount(spec.clients.perRound, spec.clients.count), spec.clients.count);
  const quorum = Math.min(resolveCount(spec.training.quorum, perRound), perRound);
  return RunConfigSchema.parse({
    apiVersion: RUN_CONFIG_VERSION,
    kind: RUN_CONFIG_KIND,
    // metadata.generation stays out: it moves with every edit, and the config's digest rolls the server.
    job: { name: metadata.name, namespace, uid: metadata.uid ?? "" },
    method: spec.method,
    effective: effectiveFor(spec.method, spec),
    model: spec.model,
    prompts: spec.prompts,
    classes: spec.classes,
    data: spec.data,
    clients: { count: spec.clients.count, perRound },
    server: {
      replicas: spec.server.replicas,
      executionProvider: spec.server.executionProvider,
      cpuFallback: spec.server.cpuFallback,
    },
    training: { ...spec.training, optimizer: optimizerFor(spec), quorum },
    compression: spec.compression,
    transport: { ...spec.transport, bundled: spec.transport.url === undefined },
    output: { ...spec.output, bucket: names.bucket, ...resumeSource(namespace, spec) },
    names,
  });
}
