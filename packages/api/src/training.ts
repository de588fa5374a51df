// The training section: rounds and epochs, optimizer, EL2N pruning, local loss, aggregation with its
// quorum and timeout, and evaluation. Defaults follow ../shared/reference/sfprompt-method.md.
import { z } from "zod";
import { countOrFraction } from "./count-or-fraction.js";

export const OptimizerSchema = z
  .strictObject({
    name: z
      .enum(["sgd", "adam"])
      .default("sgd")
      .meta({ description: "Optimizer for the prompts and the tail." }),
    learningRate: z.number().gt(0).max(100).default(0.01).meta({ description: "Step size." }),
    fullFineTuningLearningRate: z.number().gt(0).max(100).optional().meta({
      description:
        "Step size of FL full fine-tuning (method fl-full, also as a --compare baseline), which trains every weight of the pre-trained model and usually needs a far smaller one than prompts and a classifier. Unset: learningRate.",
    }),
    momentum: z.number().min(0).lt(1).default(0.9).meta({ description: "SGD momentum (ignored by adam)." }),
    weightDecay: z.number().min(0).max(1).default(0).meta({ description: "L2 weight decay." }),
    schedule: z.enum(["constant", "cosine"]).default("constant").meta({
      description:
        "Learning rate over the rounds: constant, or cosine-annealed from learningRate (round 1) towards 0 (after the last round).",
    }),
    beta1: z
      .number()
      .min(0)
      .lt(1)
      .default(0.9)
      .meta({ description: "Adam's first-moment decay (ignored by sgd)." }),
    beta2: z
      .number()
      .min(0)
      .lt(1)
      .default(0.999)
      .meta({ description: "Adam's second-moment decay (ignored by sgd)." }),
  })
  .meta({ description: "The client-side optimizer. State is reset each round, as in FedAvg." });

export const PruningSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description:
        "Prune each client's data by EL2N score before split training, so fewer samples cross the network.",
    }),
    gamma: z.number().min(0).lt(1).default(0.5).meta({
      description:
        "Fraction of the local samples pruned (the lowest EL2N scores); the client keeps ⌈(1−gamma)·n⌉, at least one batch.",
    }),
    balance: z.enum(["per-class", "none"]).default("per-class").meta({
      description:
        "per-class: every class keeps the same fraction of its samples, the hardest of them; none: the hardest overall, which leans to whole classes while the model is far from the task.",
    }),
    rescoreEvery: z.int().min(1).max(100000).default(1).meta({
      description: "Rescore and re-prune every N rounds; in between the last kept set is reused.",
    }),
  })
  .meta({ description: "EL2N dataset pruning after the local-loss update." });

export const LocalLossSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description:
        "Run the local-loss self-update (head → tail, body skipped, no traffic) before split training.",
    }),
  })
  .meta({ description: "The client's local-loss self-update (phase 1 of a round)." });

export const AggregationSchema = z
  .strictObject({
    algorithm: z.enum(["fedavg"]).default("fedavg").meta({
      description: "fedavg: average of the clients' prompts and tails weighted by their sample counts.",
    }),
  })
  .meta({ description: "How the server combines the clients' updates." });

export const EvaluationSchema = z
  .strictObject({
    everyRounds: z.int().min(0).max(100000).default(1).meta({
      description:
        "Evaluate the global model on the held-out set every N rounds and after the last; 0 turns evaluation off.",
    }),
    maxSamples: z.int().min(1).max(10000000).optional().meta({
      description: "Evaluate on at most this many held-out samples (a fixed, seeded subset); unset uses all.",
    }),
  })
  .meta({ description: "Evaluation of the global model with the full head → body → tail path." });

export const TrainingSchema = z
  .strictObject({
    rounds: z.int().min(1).max(100000).default(10).meta({ description: "Number of federated rounds." }),
    localEpochs: z.int().min(0).max(1000).default(1).meta({
      description: "Local-loss epochs per round (phase 1), over all of the client's data.",
    }),
    splitEpochs: z.int().min(0).max(1000).default(1).meta({
      description: "Split-training epochs per round (phase 2), over the kept samples.",
    }),
    batchSize: z.int().min(1).max(65536).default(32).meta({ description: "Samples per training step." }),
    seed: z.int().min(0).max(4294967295).default(0).meta({
      description: "Seed for prompt and classifier initialisation, shuffling and client selection.",
    }),
    optimizer: OptimizerSchema.prefault({}),
    pruning: PruningSchema.prefault({}),
    localLoss: LocalLossSchema.prefault({}),
    aggregation: AggregationSchema.prefault({}),
    quorum: countOrFraction(
      "the clients selected in the round",
      "Updates the server needs to aggregate a round when roundTimeoutSeconds passes before every selected client answered.",
    ).prefault({ fraction: 0.5 }),
    roundTimeoutSeconds: z.int().min(1).max(604800).default(600).meta({
      description:
        "How long a round waits for the selected clients before aggregating what arrived (if at least the quorum).",
    }),
    evaluation: EvaluationSchema.prefault({}),
  })
  .meta({ description: "How training proceeds, round by round." });

export type Optimizer = z.infer<typeof OptimizerSchema>;
export type Training = z.infer<typeof TrainingSchema>;
