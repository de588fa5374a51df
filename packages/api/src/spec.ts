// The SFPromptJob spec: the sections put together, plus the rules that relate one section to another.
import { z } from "zod";
import { resolveCount } from "./count-or-fraction.js";
import { DataSchema, TEXT_DATASETS } from "./data.js";
import { ClassesSchema, ModelSchema, PromptsSchema, TEXT_MODELS } from "./model.js";
import { OutputSchema } from "./output.js";
import { ClientsSchema, ServerSchema } from "./placement.js";
import { celPresent, immutable, VALIDATIONS, type CelRule } from "./rules.js";
import { TrainingSchema } from "./training.js";
import { CompressionSchema, TransportSchema } from "./transport.js";

export const METHODS = ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full", "centralized"] as const;
export type Method = (typeof METHODS)[number];

// Guarded with celPresent: the API server also runs these on the spec's own default ({}).
const CROSS_FIELD_CEL: CelRule[] = [
  {
    rule: `!(${celPresent("clients.perRound.count")} && ${celPresent("clients.count")}) || self.clients.perRound.count <= self.clients.count`,
    message: "clients.perRound.count must not exceed clients.count",
    fieldPath: ".clients.perRound.count",
  },
  {
    rule: `!(${celPresent("training.quorum.count")} && ${celPresent("clients.perRound.count")}) || self.training.quorum.count <= self.clients.perRound.count`,
    message: "training.quorum.count must not exceed clients.perRound.count",
    fieldPath: ".training.quorum.count",
  },
  {
    // resolveCount: ceil(fraction × count - 1e-9) clients, and an integer q is at most ceil(x) when q - 1 < x.
    rule: `!(${celPresent("training.quorum.count")} && ${celPresent("clients.perRound.fraction")} && ${celPresent("clients.count")}) || double(self.training.quorum.count) - 1.0 < self.clients.perRound.fraction * double(self.clients.count) - 0.000000001`,
    message:
      "training.quorum.count must not exceed the clients selected per round (clients.perRound.fraction of clients.count, rounded up)",
    fieldPath: ".training.quorum.count",
  },
  {
    rule: [
      `!(${celPresent("method")} && self.method == 'sfprompt'`,
      `${celPresent("model.split.headBlocks")} && self.model.split.headBlocks == 0`,
      `!has(self.model.split.cutTensors)`,
      `${celPresent("model.split.pooling")} && self.model.split.pooling == 'cls'`,
      `${celPresent("training.localLoss.enabled")} && self.training.localLoss.enabled)`,
    ].join(" && "),
    message:
      "headBlocks 0 with pooling cls gives the local loss a constant input; use pooling mean or disable training.localLoss",
    fieldPath: ".model.split.pooling",
  },
  {
    rule: [
      `!(${celPresent("data.source")} && !has(self.data.source.builtin) && !has(self.data.evalSource)`,
      `${celPresent("training.evaluation.everyRounds")} && self.training.evaluation.everyRounds > 0)`,
    ].join(" && "),
    message:
      "data.evalSource is required for folder and JSONL data unless training.evaluation.everyRounds is 0",
    fieldPath: ".data.evalSource",
  },
];

const RESUME_FROM_WITHOUT_RESUME =
  "output.resumeFrom goes on from another job's checkpoint, output.resume: false starts over from round 0; drop resume: false to go on, or drop resumeFrom to start over";

const celList = (xs: readonly string[]): string => `[${xs.map((x) => `'${x}'`).join(", ")}]`;

// A built-in model and a built-in dataset of different kinds (text vs images), and a tokenizer on
// the built-in image model. Models from files are checked when the job's bundle is prepared.
for (const field of ["source", "evalSource"] as const) {
  const both = `${celPresent("model.source.builtin")} && ${celPresent(`data.${field}.builtin`)}`;
  const textModel = `self.model.source.builtin in ${celList(TEXT_MODELS)}`;
  const textData = `self.data.${field}.builtin in ${celList(TEXT_DATASETS)}`;
  CROSS_FIELD_CEL.push({
    rule: `!(${both}) || ((${textModel}) == (${textData}))`,
    message: `data.${field}.builtin must hold what the built-in model takes: text for minilm, images for demo`,
    fieldPath: `.data.${field}.builtin`,
  });
}
CROSS_FIELD_CEL.push({
  rule: `!(${celPresent("output.resumeFrom")} && ${celPresent("output.resume")} && !self.output.resume)`,
  message: RESUME_FROM_WITHOUT_RESUME,
  fieldPath: ".output.resumeFrom",
});
CROSS_FIELD_CEL.push({
  rule: `!(${celPresent("model.source.builtin")} && self.model.source.builtin == 'demo' && has(self.model.tokenizer))`,
  message: "model.tokenizer is for text models; the demo model takes images",
  fieldPath: ".model.tokenizer",
});

const SpecObject = z.strictObject({
  method: z
    .enum(METHODS)
    .default("sfprompt")
    .meta({
      description:
        "Training method. sfprompt: split training with local loss and EL2N pruning. Baselines on the same engine: sfl-prompt (split, no pruning or local loss), fl-prompt (whole model on the client, prompt + tail trained), fl-full (whole model trained with FedAvg), centralized (one process, all data).",
      [VALIDATIONS]: [immutable()],
    }),
  model: ModelSchema.prefault({}),
  prompts: PromptsSchema.prefault({}),
  classes: ClassesSchema.prefault({}),
  data: DataSchema.prefault({}),
  clients: ClientsSchema.prefault({}),
  server: ServerSchema.prefault({}),
  training: TrainingSchema.prefault({}),
  compression: CompressionSchema.prefault({}),
  transport: TransportSchema.prefault({}),
  output: OutputSchema.prefault({}),
  suspend: z.boolean().default(false).meta({
    description:
      "Stop the job's pods while true; the job resumes from its last checkpoint when set back to false.",
  }),
  activeDeadlineSeconds: z.int().min(1).max(31536000).optional().meta({
    description:
      "Fail the job when it has been running longer than this many seconds (suspended time excluded).",
  }),
  ttlSecondsAfterFinished: z.int().min(0).max(31536000).optional().meta({
    description: "Delete the job this many seconds after it succeeded or failed; unset keeps it.",
  }),
});

export const SpecSchema = SpecObject.superRefine(checkCrossFields).meta({
  description: "What to fine-tune, on which data, with which method, and where its processes run.",
  [VALIDATIONS]: CROSS_FIELD_CEL,
});

export type SpecInput = z.input<typeof SpecObject>;
export type Spec = z.output<typeof SpecObject>;

function checkCrossFields(spec: Spec, ctx: z.RefinementCtx): void {
  const { clients, training, model, data } = spec;
  if (clients.perRound.count !== undefined && clients.perRound.count > clients.count) {
    ctx.addIssue({
      code: "custom",
      path: ["clients", "perRound", "count"],
      message: `is ${clients.perRound.count} but there are only ${clients.count} clients (spec.clients.count); lower it or add clients`,
    });
  }
  const selected = Math.min(resolveCount(clients.perRound, clients.count), clients.count);
  if (training.quorum.count !== undefined && training.quorum.count > selected) {
    ctx.addIssue({
      code: "custom",
      path: ["training", "quorum", "count"],
      message: `is ${training.quorum.count} but only ${selected} clients are selected per round; lower the quorum or select more clients`,
    });
  }
  const split = model.split;
  const localLoss = spec.method === "sfprompt" && training.localLoss.enabled;
  if (split.headBlocks === 0 && !split.cutTensors && split.pooling === "cls" && localLoss) {
    ctx.addIssue({
      code: "custom",
      path: ["model", "split", "pooling"],
      message:
        "is cls with headBlocks 0: the CLS token at the head output is constant, so the local loss cannot learn; use pooling: mean or set training.localLoss.enabled: false",
    });
  }
  checkKinds(spec, ctx);
  if (spec.output.resumeFrom !== undefined && !spec.output.resume)
    ctx.addIssue({
      code: "custom",
      path: ["output", "resumeFrom"],
      message:
        "is set with spec.output.resume: false, which starts over from round 0 instead of going on from that job's checkpoint; drop resume: false to go on from it, or drop resumeFrom to start over",
    });
  if (
    data.source.builtin === undefined &&
    data.evalSource === undefined &&
    training.evaluation.everyRounds > 0
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["data", "evalSource"],
      message:
        "is required when the training data is a folder or JSONL file and evaluation is on; set it or set training.evaluation.everyRounds: 0",
    });
  }
}

/** A built-in model with built-in data of the other kind, or a tokenizer on the image demo model. */
function checkKinds(spec: Spec, ctx: z.RefinementCtx): void {
  const model = spec.model.source.builtin;
  if (model === undefined) return;
  const text = TEXT_MODELS.includes(model);
  for (const field of ["source", "evalSource"] as const) {
    const data = spec.data[field]?.builtin;
    if (data === undefined || TEXT_DATASETS.includes(data) === text) continue;
    ctx.addIssue({
      code: "custom",
      path: ["data", field, "builtin"],
      message: text
        ? `is ${data}, which holds images, but model.source.builtin ${model} takes text; use debian-sections or JSONL text`
        : `is ${data}, which holds text, but model.source.builtin ${model} takes images; use a text model (builtin: minilm)`,
    });
  }
  if (!text && spec.model.tokenizer !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["model", "tokenizer"],
      message: `is for text models, but model.source.builtin ${model} takes images; remove it`,
    });
  }
}
