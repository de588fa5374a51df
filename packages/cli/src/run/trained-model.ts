// The trained prompt + tail (or, for FL full fine-tuning, every weight) as ONNX: a copy of the
// partition bundle whose graphs carry the trained values as their defaults, plus the whole prompted
// model in one file (model.onnx) for inference elsewhere.
import { cpSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { readModel, readPartitionManifest, splitModel, writeModel, type Model } from "@sfprompt/engine";
import type { ParamSet } from "@sfprompt/core";

/** `model` with every initializer named in `params` (and of the same size) set to the trained value. */
export function withTrained(model: Model, params: ParamSet): { model: Model; replaced: number } {
  const initializers = new Map(model.graph.initializers);
  let replaced = 0;
  for (const [name, p] of params) {
    const t = initializers.get(name);
    if (t === undefined || t.dtype !== "float32" || t.data.length !== p.data.length) continue;
    initializers.set(name, { ...t, data: p.data });
    replaced++;
  }
  return { model: { ...model, graph: { ...model.graph, initializers } }, replaced };
}

function onnxFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".onnx"))
    .map((f) => join(dir, f));
}

/**
 * Writes `out`/: the bundle with trained defaults and model.onnx (the whole prompted model). Returns
 * the files written, relative to `out`.
 */
export function writeTrainedModel(
  bundleDir: string,
  sourceModel: string,
  params: ParamSet,
  out: string,
): string[] {
  cpSync(bundleDir, out, { recursive: true });
  const written: string[] = [];
  for (const file of onnxFiles(out)) {
    const r = withTrained(readModel(file), params);
    if (r.replaced === 0) continue;
    writeModel(file, r.model);
    written.push(relative(out, file));
  }
  const o = readPartitionManifest(bundleDir).options;
  const split = splitModel(readModel(sourceModel), {
    headBlocks: o.headBlocks,
    promptLength: o.promptLength,
    pooling: o.pooling,
    seed: o.seed,
    ...(o.numClasses === null ? {} : { numClasses: o.numClasses }),
    ...(o.cutHead === null ? {} : { cutHead: o.cutHead }),
    ...(o.cutTail === null ? {} : { cutTail: o.cutTail }),
  });
  writeModel(join(out, "model.onnx"), withTrained(split.prompted, params).model);
  written.push("model.onnx");
  return written;
}
