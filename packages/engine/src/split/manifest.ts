// The partition bundle's manifest.json: one zod schema gives the TypeScript type, the validation of
// a bundle read from disk, and the field names the runtime relies on (docs/partition-bundle.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { locationProblem } from "../onnx/external-location.js";
import { ManifestError } from "./errors.js";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = "sfprompt.partition-bundle";
export const MANIFEST_VERSION = 1;

const Dim = z.union([z.number().int().nonnegative(), z.string(), z.null()]);

export const TensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.string().min(1),
  shape: z.array(Dim),
});
export type TensorSpec = z.infer<typeof TensorSpec>;

/**
 * Why `p` is no file inside the bundle folder, or undefined when it names one: the rule an external
 * data location is held to (locationProblem), in a manifest's words. ".", "./", "grad/..": the folder
 * itself passes the access check and fails when opened as a graph.
 */
function notInside(p: string): string | undefined {
  const problem = locationProblem(p);
  if (problem === undefined) return undefined;
  if (problem.outside) return 'absolute, or climbing out with ".."';
  return p === "" ? "empty" : "the bundle folder itself";
}

/**
 * A file of the bundle, relative to its folder: sessions open it there, and the start-up check reads
 * its access, so a manifest naming "../x", "/x", "." or "" (not one sfprompt prepare wrote) is refused.
 */
const BundleFile = z.string().refine((p) => notInside(p) === undefined, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a file inside the bundle folder (${notInside(String(iss.input))})`,
});

/** An ONNX file of the bundle with its graph inputs and outputs. */
export const GraphFile = z.object({
  file: BundleFile,
  /**
   * The external tensor data files `file` reads its weights from (relative to the bundle folder, as
   * `file` is); absent when every tensor is inline, and in bundles written before it was recorded.
   */
  data: z.array(BundleFile).optional(),
  inputs: z.array(TensorSpec),
  outputs: z.array(TensorSpec),
});
export type GraphFile = z.infer<typeof GraphFile>;

export const PartitionName = z.enum(["head", "body", "tail"]);
export type PartitionName = z.infer<typeof PartitionName>;

export const Partition = GraphFile.extend({
  name: PartitionName,
  /** Trainable parameters among the inputs (each has its initial value stored as a default). */
  parameters: z.array(z.string()),
});
export type Partition = z.infer<typeof Partition>;

export const Parameter = z.object({
  name: z.string().min(1),
  partition: z.enum(["head", "tail"]),
  dtype: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  init: z.enum(["xavier-uniform", "zeros", "pretrained"]),
});
export type Parameter = z.infer<typeof Parameter>;

/** A gradient graph: `gradients` maps each differentiated tensor to the output holding its gradient. */
export const GradientGraph = GraphFile.extend({
  wrt: z.array(z.string()),
  gradients: z.record(z.string(), z.string()),
  /** Output name -> the input that takes its upstream gradient (empty when the loss is in the graph). */
  upstream: z.record(z.string(), z.string()),
});
export type GradientGraph = z.infer<typeof GradientGraph>;

/** A gradient graph whose loss is part of it: fed labels, it outputs loss, logits and gradients. */
export const LossGradientGraph = GradientGraph.extend({
  loss: z.string(),
  logits: z.string(),
  labels: z.string(),
});
export type LossGradientGraph = z.infer<typeof LossGradientGraph>;

export const SaveActivationsPair = z.object({
  forward: GraphFile,
  backward: GraphFile,
  /** Forward outputs that the backward takes as inputs of the same name. */
  saved: z.array(z.string()),
  gradients: z.record(z.string(), z.string()),
  upstream: z.record(z.string(), z.string()),
});
export type SaveActivationsPair = z.infer<typeof SaveActivationsPair>;

export const PartitionManifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(MANIFEST_VERSION),
  source: z.object({
    file: z.string(),
    blocks: z.object({ family: z.string(), count: z.number().int(), cuts: z.array(z.string()) }).nullable(),
  }),
  options: z.object({
    headBlocks: z.number().int().nonnegative(),
    promptLength: z.number().int().nonnegative(),
    numClasses: z.number().int().nullable(),
    pooling: z.enum(["cls", "mean"]),
    cutHead: z.string().nullable(),
    cutTail: z.string().nullable(),
    seed: z.number().int(),
  }),
  inputs: z.array(TensorSpec),
  labels: TensorSpec,
  maskInputs: z.array(z.string()),
  activations: z.object({ head: z.string(), body: z.string() }),
  logits: z.string(),
  numClasses: z.number().int().positive(),
  partitions: z.array(Partition).length(3),
  local: GraphFile,
  /** The whole prompted model (head -> body -> tail in one graph), or null when not written (or older bundles). */
  full: GraphFile.nullable().default(null),
  parameters: z.array(Parameter),
  gradients: z.object({
    head: GradientGraph.nullable(),
    body: z.object({ recompute: GradientGraph, saveActivations: SaveActivationsPair }),
    tail: LossGradientGraph,
    local: LossGradientGraph,
    /** The whole prompted model's loss, wrt prompt + tail parameters (same wrt as local), or null. */
    full: LossGradientGraph.nullable().default(null),
  }),
});
export type PartitionManifest = z.infer<typeof PartitionManifest>;

/** What a manifest that cannot be read is told: prepare the bundle, with the flags prepare's usage lists. */
const PREPARE_INTO = "prepare the bundle with sfprompt prepare into";
const PREPARE_FLAGS = "(the model file and its split as flags: sfprompt prepare --help)";

/** Reads and validates DIR/manifest.json; file fields stay relative to `dir`. */
export function readPartitionManifest(dir: string): PartitionManifest {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    // no command with --out alone: prepare needs the model file and split flags, which the engine does
    // not know here; callers that know the job say the whole command (ADR 0017 amendment 29)
    // its problem without that advice, as the others: a caller that gives its own (the images' given
    // bundle check, a resumed run's bundle) said both
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    const problem = `cannot read ${path} (${code})`;
    throw new ManifestError(`cannot read ${path}: ${PREPARE_INTO} ${dir} first ${PREPARE_FLAGS}`, {
      cause,
      problem,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    // a file cut short (a copy that stopped, a full disk): it was read, so "first" would be wrong
    const problem = `${path} is not JSON (${(cause as Error).message})`;
    throw new ManifestError(`${problem}: ${PREPARE_INTO} ${dir} again ${PREPARE_FLAGS}`, { cause, problem });
  }
  const parsed = PartitionManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(
      `${path} is not a partition manifest: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Every graph the manifest names. */
function manifestGraphs(m: PartitionManifest): GraphFile[] {
  const g = m.gradients;
  const graphs = [
    ...m.partitions,
    m.local,
    m.full,
    g.head,
    g.body.recompute,
    g.body.saveActivations.forward,
    g.body.saveActivations.backward,
    g.tail,
    g.local,
    g.full,
  ];
  return graphs.filter((x): x is GraphFile => x !== null);
}

/** Every file the manifest names (relative to its folder), each once: ONNX files and their external data. */
export function manifestFiles(m: PartitionManifest): string[] {
  return [...new Set(manifestGraphs(m).flatMap((x) => [x.file, ...(x.data ?? [])]))];
}

/** The ONNX files the manifest names (relative to its folder), each once. */
export function manifestGraphFiles(m: PartitionManifest): string[] {
  return [...new Set(manifestGraphs(m).map((x) => x.file))];
}
