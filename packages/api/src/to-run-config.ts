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

/**
 * The token that names a job in NATS: `<namespace>__<name>` with dots in the name turned into `_`.
 * DNS names never hold `_`, so the token is unique per job and a valid subject token and bucket name.
 */
export function jobToken(namespace: string, name: string): string {
  return `${namespace}__${name.replace(/\./g, "_")}`;
}

/** Names of the job's NATS resources (subjects, stream, buckets, queue group). */
export function natsNames(namespace: string, name: string, bucket?: string): RunConfig["names"] {
  const token = jobToken(namespace, name);
  return {
    subjectPrefix: `sfp.${namespace}.${name.replace(/\./g, "_")}`,
    stream: `SFP_${token}`,
    bucket: bucket ?? `sfp-${token}`,
    stateBucket: `sfp-state-${token}`,
    queueGroup: `sfp-body-${token}`,
  };
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
    job: { name: metadata.name, namespace, uid: metadata.uid ?? "", generation: metadata.generation ?? 0 },
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
    training: { ...spec.training, quorum },
    compression: spec.compression,
    transport: { ...spec.transport, bundled: spec.transport.url === undefined },
    output: { ...spec.output, bucket: names.bucket },
    names,
  });
}
