// `sfprompt prepare`: reads a model, splits it, builds the gradient graphs and writes the partition
// bundle (ONNX files + manifest.json) into a directory.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join, posix } from "node:path";
import { bytesOfValues } from "../ir/dtype.js";
import type { Model, ValueInfo } from "../ir/types.js";
import { readModel, writeModel } from "../onnx/model-io.js";
import { buildSplitGradients, type SplitGradients } from "./gradient-graphs.js";
import { LABELS, LOSS } from "./loss.js";
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type GradientGraph,
  type GraphFile,
  type PartitionManifest,
  type TensorSpec,
} from "./manifest.js";
import { splitModel, type SplitModel, type SplitOptions } from "./split-model.js";

export interface PrepareBundleOptions extends SplitOptions {
  /** The ONNX model to split. */
  readonly model: string;
  /**
   * `model` as readModel read it already (a caller that checked its inputs first): split as it is,
   * not read again. splitModel works on a copy of its graph.
   */
  readonly loaded?: Model;
  /** The bundle directory (created). */
  readonly out: string;
  /** Also write the whole prompted model and its loss gradient (default true). */
  readonly full?: boolean;
  /**
   * Initializer bytes past which a graph keeps its weights in a sibling `<file>.data` (default 1 GiB,
   * protobuf's limit being 2 GiB); tests set it low to have small bundles with external data.
   */
  readonly externalDataAbove?: number;
}

export const BUNDLE_FILES = {
  head: "head.onnx",
  body: "body.onnx",
  tail: "tail.onnx",
  local: "local.onnx",
  full: "full.onnx",
  headGrad: "grad/head.onnx",
  bodyGrad: "grad/body.onnx",
  bodyForward: "grad/body.forward.onnx",
  bodyBackward: "grad/body.backward.onnx",
  tailGrad: "grad/tail.onnx",
  localGrad: "grad/local.onnx",
  fullGrad: "grad/full.onnx",
} as const;

const EXTERNAL_ABOVE_BYTES = 1 << 30;

function spec(v: ValueInfo): TensorSpec {
  return { name: v.name, dtype: v.dtype, shape: [...(v.shape ?? [])] };
}

/** Where a bundle is written, and past how many initializer bytes a graph's weights go to a data file. */
interface BundleOut {
  readonly dir: string;
  readonly externalAbove: number;
}

/**
 * Writes `model` to DIR/file (weights in a sibling file past `externalAbove` bytes); the entry lists
 * that data file (relative to DIR, as `file` is) so that a bundle's check covers every file it needs.
 */
function write(out: BundleOut, file: string, model: Model): GraphFile {
  let total = 0;
  for (const t of model.graph.initializers.values())
    if (t.dtype !== "string") total += bytesOfValues(t.data).byteLength;
  const external = total > out.externalAbove ? { externalData: {} } : {};
  const data = writeModel(join(out.dir, file), model, external).map((d) =>
    posix.join(posix.dirname(file), d),
  );
  const entry = { file, inputs: model.graph.inputs.map(spec), outputs: model.graph.outputs.map(spec) };
  return data.length > 0 ? { ...entry, data } : entry;
}

const gradNames = (wrt: readonly string[]): Record<string, string> =>
  Object.fromEntries(wrt.map((w) => [w, `grad_${w}`]));

function gradientGraph(
  out: BundleOut,
  file: string,
  model: Model,
  wrt: readonly string[],
  outputs: readonly string[],
): GradientGraph {
  const upstream = Object.fromEntries(outputs.map((o) => [o, `grad_${o}`]));
  return { ...write(out, file, model), wrt: [...wrt], gradients: gradNames(wrt), upstream };
}

export interface WriteBundleRequest {
  /** The bundle directory (created). */
  readonly dir: string;
  /** The model file the split came from (its base name is recorded). */
  readonly source: string;
  readonly split: SplitModel;
  readonly gradients: SplitGradients;
  readonly options: SplitOptions;
  /** Initializer bytes past which a graph's weights go to a sibling data file (default 1 GiB). */
  readonly externalDataAbove?: number;
}

/** Writes every file of the bundle and returns the manifest (also written as DIR/manifest.json). */
export function writeBundle(req: WriteBundleRequest): PartitionManifest {
  const { dir, source, split: s, gradients: gr, options: o } = req;
  const out: BundleOut = { dir, externalAbove: req.externalDataAbove ?? EXTERNAL_ABOVE_BYTES };
  mkdirSync(join(dir, "grad"), { recursive: true });
  const params = (partition: "head" | "tail"): string[] =>
    s.parameters.filter((p) => p.partition === partition).map((p) => p.name);
  const loss = (
    file: string,
    model: Model,
    wrt: readonly string[],
  ): PartitionManifest["gradients"]["tail"] => ({
    ...write(out, file, model),
    wrt: [...wrt],
    gradients: gradNames(wrt),
    upstream: {},
    loss: LOSS,
    logits: s.logits,
    labels: LABELS,
  });
  const manifest: PartitionManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    source: {
      file: basename(source),
      blocks: s.cuts.blocks
        ? { family: s.cuts.blocks.family, count: s.cuts.blocks.count, cuts: [...s.cuts.blocks.cuts] }
        : null,
    },
    options: {
      headBlocks: o.headBlocks,
      promptLength: o.promptLength,
      numClasses: o.numClasses ?? null,
      pooling: s.pooling,
      cutHead: o.cutHead ?? null,
      cutTail: o.cutTail ?? null,
      seed: o.seed ?? 0,
    },
    inputs: s.prompted.graph.inputs.filter((i) => !s.parameters.some((p) => p.name === i.name)).map(spec),
    labels: { name: LABELS, dtype: "int64", shape: [s.prompted.graph.outputs[0]?.shape?.[0] ?? "batch"] },
    maskInputs: [...s.maskInputs],
    activations: { head: s.headOutput, body: s.bodyOutput },
    logits: s.logits,
    numClasses: s.numClasses,
    partitions: [
      { name: "head", ...write(out, BUNDLE_FILES.head, s.head), parameters: params("head") },
      { name: "body", ...write(out, BUNDLE_FILES.body, s.body), parameters: [] },
      { name: "tail", ...write(out, BUNDLE_FILES.tail, s.tail), parameters: params("tail") },
    ],
    local: write(out, BUNDLE_FILES.local, s.local),
    full: gr.full ? write(out, BUNDLE_FILES.full, s.prompted) : null,
    parameters: s.parameters.map((p) => ({ ...p, shape: [...p.shape] })),
    gradients: {
      head: gr.head ? gradientGraph(out, BUNDLE_FILES.headGrad, gr.head, gr.headWrt, [s.headOutput]) : null,
      body: {
        recompute: gradientGraph(out, BUNDLE_FILES.bodyGrad, gr.body, gr.bodyWrt, [s.bodyOutput]),
        saveActivations: {
          forward: write(out, BUNDLE_FILES.bodyForward, gr.bodySaved.forward),
          backward: write(out, BUNDLE_FILES.bodyBackward, gr.bodySaved.backward),
          saved: [...gr.bodySaved.saved],
          gradients: gradNames(gr.bodyWrt),
          upstream: { [s.bodyOutput]: `grad_${s.bodyOutput}` },
        },
      },
      tail: loss(BUNDLE_FILES.tailGrad, gr.tail, gr.tailWrt),
      local: loss(BUNDLE_FILES.localGrad, gr.local, gr.localWrt),
      full: gr.full ? loss(BUNDLE_FILES.fullGrad, gr.full, gr.localWrt) : null,
    },
  };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads `options.model`, splits it and writes the bundle to `options.out`; returns the manifest. */
export function prepareBundle(options: PrepareBundleOptions): PartitionManifest {
  const model = options.loaded ?? readModel(options.model);
  const split = splitModel(model, options);
  const grads = buildSplitGradients(split, { full: options.full ?? true });
  return writeBundle({
    dir: options.out,
    source: options.model,
    split,
    gradients: grads,
    options,
    ...(options.externalDataAbove !== undefined ? { externalDataAbove: options.externalDataAbove } : {}),
  });
}
