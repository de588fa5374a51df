// The run config: the job resolved into what the server and client processes read (from a ConfigMap
// on a cluster, from a file with `sfprompt run`). Every default is filled and every count resolved.
import { z } from "zod";
import { ClassesSchema, ModelSchema, PromptsSchema } from "./model.js";
import { DataSchema } from "./data.js";
import { METHODS } from "./spec.js";
import { TrainingSchema } from "./training.js";
import { CompressionSchema, TransportSchema } from "./transport.js";
import { OutputSchema } from "./output.js";

export const RUN_CONFIG_KIND = "SFPromptRunConfig";
export const RUN_CONFIG_VERSION = "sfprompt.io/v1alpha1";

/** What a method turns on; the processes branch on these, never on the method name. */
export const EffectiveSchema = z.strictObject({
  splitTraining: z.boolean().meta({ description: "Phase 2 runs: head on the client, body on the server." }),
  localLoss: z.boolean().meta({ description: "Phase 1 local-loss epochs run." }),
  pruning: z.boolean().meta({ description: "EL2N pruning selects the samples of phase 2." }),
  clientRunsWholeModel: z.boolean().meta({ description: "Clients hold head, body and tail (FL baselines)." }),
  trainAllWeights: z.boolean().meta({ description: "Every weight is trained, not only prompt and tail." }),
  federated: z.boolean().meta({ description: "Several clients and FedAvg; false for centralized." }),
  promptGradientOverNetwork: z
    .boolean()
    .meta({ description: "Gradients cross the network (prompt gradient full)." }),
});

export const NamesSchema = z.strictObject({
  job: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .meta({
      description:
        "The job's data-plane token; packages/protocol derives subjects, stream and buckets from it.",
    }),
  subjectPrefix: z.string().meta({ description: "Prefix of every NATS subject of the job: sfp.<job>." }),
  bucket: z.string().meta({ description: "Object Store bucket for bundles, checkpoints and artifacts." }),
});

export const RunConfigSchema = z.strictObject({
  apiVersion: z.literal(RUN_CONFIG_VERSION),
  kind: z.literal(RUN_CONFIG_KIND),
  job: z.strictObject({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    // Not written since ADR 0040: no process reads it, and in the run config every spec edit rolled
    // the server. Still accepted, so a config an older operator rendered reads as before.
    generation: z.int().optional().meta({ description: "Ignored; written by older operators." }),
  }),
  method: z.enum(METHODS),
  effective: EffectiveSchema,
  model: ModelSchema,
  prompts: PromptsSchema,
  classes: ClassesSchema,
  data: DataSchema,
  clients: z.strictObject({
    count: z.int().min(1),
    perRound: z.int().min(1).meta({ description: "Clients selected per round, resolved to a count." }),
  }),
  server: z.strictObject({
    replicas: z.int().min(1),
    executionProvider: z.enum(["cuda", "cpu"]),
    cpuFallback: z.boolean(),
  }),
  training: TrainingSchema.omit({ quorum: true }).extend({
    quorum: z
      .int()
      .min(1)
      .meta({ description: "Updates needed to aggregate at the round timeout, resolved to a count." }),
  }),
  compression: CompressionSchema,
  transport: TransportSchema.extend({
    bundled: z.boolean().meta({ description: "No url was given: use the bundled NATS." }),
  }),
  output: OutputSchema.extend({
    bucket: z.string(),
    resumeFrom: z
      .strictObject({
        job: z.string().meta({ description: "The source job's name (spec.output.resumeFrom.job)." }),
        token: NamesSchema.shape.job.meta({ description: "The source job's data-plane token." }),
        bucket: z.string().meta({ description: "The source job's artifact bucket, only read." }),
      })
      .optional()
      .meta({ description: "The job whose newest checkpoint a job without one starts from (ADR 0044)." }),
  }),
  names: NamesSchema,
});

export type Effective = z.infer<typeof EffectiveSchema>;
export type RunConfig = z.output<typeof RunConfigSchema>;
