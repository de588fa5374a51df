// Models and bundles for the splitter tests: the committed torch.onnx fixtures (with their inputs) and
// GraphBuilder toys, split and written to a temporary bundle directory that the test removes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildSplitGradients,
  makeTensor,
  readModel,
  splitModel,
  writeBundle,
  type Model,
  type PartitionManifest,
  type SplitModel,
  type SplitOptions,
} from "@sfprompt/engine";
import { randomIds, randomTensor, Rng } from "./random.js";
import type { Env } from "./split-run.js";

export interface ModelCase {
  readonly model: Model;
  readonly feeds: Env;
  /** The file the model came from ("toy.onnx" for built models). */
  readonly source: string;
}

const fixturesRoot = new URL("../fixtures/torch/", import.meta.url).pathname;

/** A committed torch.onnx fixture with inputs of our own (batch 2; the BERT's second row padded). */
export function fixtureCase(name: "vit" | "bert"): ModelCase {
  const source = join(fixturesRoot, name, "model.onnx");
  const rng = new Rng(name === "vit" ? 5 : 6);
  if (name === "vit") {
    return {
      model: readModel(source),
      source,
      feeds: { pixel_values: randomTensor(rng, "float32", [2, 3, 32, 32]) },
    };
  }
  const mask = BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], (v) => BigInt(v));
  const types = BigInt64Array.from([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0], (v) => BigInt(v));
  const feeds: Env = {
    input_ids: randomIds(rng, [2, 8], 100),
    attention_mask: makeTensor("int64", [2, 8], mask),
    token_type_ids: makeTensor("int64", [2, 8], types),
  };
  return { model: readModel(source), source, feeds };
}

export interface Bundle {
  readonly dir: string;
  readonly manifest: PartitionManifest;
  readonly split: SplitModel;
  /** Absolute path of a bundle file. */
  file(relative: string): string;
  remove(): void;
}

/**
 * Splits the case, builds the gradient graphs and writes the bundle into a fresh temporary directory;
 * `externalDataAbove` (bytes) sends the weights of graphs past it to external data files.
 */
export function writeCaseBundle(
  c: ModelCase,
  options: SplitOptions,
  write: { externalDataAbove?: number } = {},
): Bundle {
  const dir = mkdtempSync(join(tmpdir(), "sfp-split-"));
  const split = splitModel(c.model, options);
  const manifest = writeBundle({
    dir,
    source: c.source,
    split,
    gradients: buildSplitGradients(split),
    options,
    ...write,
  });
  return {
    dir,
    manifest,
    split,
    file: (r) => join(dir, r),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The files of the head, body and tail partitions in chain order. */
export function chainFiles(b: Bundle): string[] {
  return b.manifest.partitions.map((p) => b.file(p.file));
}
