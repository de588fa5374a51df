// File-level entry of `sfprompt grad`: read M, build G (or the forward/backward pair), write it.
import { bytesOfValues } from "../ir/dtype.js";
import type { Model } from "../ir/types.js";
import { readModel, writeModel } from "../onnx/model-io.js";
import { probeShapes } from "../shape/probe.js";
import {
  buildGradientModel,
  buildSaveActivationsModels,
  unknownRankValues,
  type GradientMode,
} from "./gradient-model.js";

export interface WriteGradientModelOptions {
  readonly model: string;
  readonly wrt: string[];
  readonly out: string;
  readonly mode?: GradientMode;
  /** Recompute only: false writes a G that returns only grad_<w> (see GradientOptions.keepOutputs). */
  readonly keepOutputs?: boolean;
}

/** Where the save-activations variant writes its two models for a given `out` path. */
export function saveActivationsPaths(out: string): { forward: string; backward: string } {
  const stem = out.endsWith(".onnx") ? out.slice(0, -".onnx".length) : out;
  return { forward: out, backward: `${stem}.backward.onnx` };
}

const EXTERNAL_ABOVE_BYTES = 1 << 30;

function write(path: string, model: Model): void {
  let total = 0;
  for (const t of model.graph.initializers.values())
    if (t.dtype !== "string") total += bytesOfValues(t.data).byteLength;
  // Protobuf caps a message at 2 GiB: large models keep their weights in a sibling data file.
  writeModel(path, model, total > EXTERNAL_ABOVE_BYTES ? { externalData: {} } : {});
}

/**
 * Reads `model`, builds the gradient model for `wrt` and writes it to `out`.
 * recompute (default): one model G with the `sfprompt grad` contract.
 * save-activations: `out` is the forward model (M's outputs, then saved activations) and
 * `<out stem>.backward.onnx` the backward model (saved activations + grad_<O> -> grad_<w>).
 */
export async function writeGradientModel(opts: WriteGradientModelOptions): Promise<void> {
  const model = readModel(opts.model);
  const unknown = unknownRankValues(model);
  // Static inference covers torch/optimum exports; anything else gets its shapes from one probe run.
  const facts = unknown.length > 0 ? await probeShapes(model, unknown) : undefined;
  const options = { wrt: opts.wrt, ...(facts ? { facts } : {}) };
  if ((opts.mode ?? "recompute") === "recompute") {
    write(opts.out, buildGradientModel(model, { ...options, keepOutputs: opts.keepOutputs ?? true }));
    return;
  }
  const pair = buildSaveActivationsModels(model, options);
  const paths = saveActivationsPaths(opts.out);
  write(paths.forward, pair.forward);
  write(paths.backward, pair.backward);
}
