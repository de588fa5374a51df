// The block shapes the engine benchmark measures, and how their gradient models are made.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { readModel, saveActivationsPaths, writeGradientModel } from "@sfprompt/engine";
import { SideProcessError } from "./stepper.js";

export interface BlockShape {
  name: string;
  hidden: number;
  heads: number;
  mlp: number;
  seq: number;
  batch: number;
}

export const blocks: BlockShape[] = [
  { name: "vit-tiny", hidden: 192, heads: 3, mlp: 768, seq: 197, batch: 32 },
  { name: "vit-base", hidden: 768, heads: 12, mlp: 3072, seq: 197, batch: 8 },
];

export const INPUT = "hidden_states";
export const OUTPUT = "block_output";
export const torchScript = new URL("./torch_block.py", import.meta.url).pathname;

export function shapeArgs(b: BlockShape): string[] {
  return ["--hidden", "--heads", "--mlp", "--seq", "--batch"].flatMap((k) => [
    k,
    String(b[k.slice(2) as keyof BlockShape]),
  ]);
}

export interface BlockModels {
  model: string;
  inputsBin: string;
  recompute: [string, string];
  saveActivations: [string, string];
  wrt: string[];
  buildMs: { recompute: number; saveActivations: number };
}

/** Exports the block with torch.onnx and writes both gradient variants with the engine. */
export async function prepareBlock(b: BlockShape, dir: string, withWeights: boolean): Promise<BlockModels> {
  const model = join(dir, `${b.name}.onnx`);
  const r = spawnSync("/usr/bin/python3", ["-W", "ignore", torchScript, "export", model, ...shapeArgs(b)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) {
    throw new SideProcessError(
      `torch.onnx export of block ${b.name} failed (exit ${r.status}); see its stderr above`,
    );
  }
  const weights = withWeights
    ? [...readModel(model).graph.initializers].filter(([, t]) => t.dtype === "float32").map(([n]) => n)
    : [];
  const wrt = [INPUT, ...weights];
  const g = join(dir, `${b.name}.grad.onnx`);
  const sa = join(dir, `${b.name}.sa.onnx`);
  const t0 = performance.now();
  // G returns only the gradients, as the body server's recompute graph does (the step already has M's output)
  await writeGradientModel({ model, wrt, out: g, mode: "recompute", keepOutputs: false });
  const t1 = performance.now();
  await writeGradientModel({ model, wrt, out: sa, mode: "save-activations" });
  const t2 = performance.now();
  const paths = saveActivationsPaths(sa);
  return {
    model,
    inputsBin: `${model}.inputs.bin`,
    recompute: [model, g],
    saveActivations: [paths.forward, paths.backward],
    wrt,
    buildMs: { recompute: t1 - t0, saveActivations: t2 - t1 },
  };
}
