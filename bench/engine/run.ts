// Engine benchmark: forward + backward of a ViT-Tiny-size and a ViT-B-size transformer block, our
// generated gradient graphs in onnxruntime-node ("recompute" and "save-activations") against PyTorch
// eager, same shapes, same weights, same thread count, each side in its own child process.
// Usage: npm run bench:engine -- [--threads 1,2] [--warmup W] [--iters N] [--blocks vit-tiny,vit-base] [--with-weights]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  blocks,
  INPUT,
  OUTPUT,
  prepareBlock,
  shapeArgs,
  torchScript,
  type BlockModels,
  type BlockShape,
} from "./blocks.js";
import type { OrtSideConfig } from "./ort-side.js";
import { machineFacts, writeResults, type BlockResult, type SideResult, type SideSummary } from "./report.js";
import { relErr, type Timings } from "./stats.js";
import { SideProcessError, Stepper } from "./stepper.js";

const here = new URL(".", import.meta.url).pathname;

/** A command-line option the benchmark cannot use. */
class BenchUsageError extends Error {
  override name = "BenchUsageError";
}

interface Options {
  threadCounts: number[];
  warmup: number;
  iters: number;
  blocks: BlockShape[];
  withWeights: boolean;
  append: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      // 1 and every core: a shared machine's load hurts multi-threaded runs unevenly (see engine.md)
      threads: { type: "string", default: [...new Set([1, Math.min(availableParallelism(), 4)])].join(",") },
      warmup: { type: "string", default: "1" },
      iters: { type: "string", default: "6" },
      blocks: { type: "string", default: blocks.map((b) => b.name).join(",") },
      "with-weights": { type: "boolean", default: false },
      // keep the runs already in engine.json and add this one (repeat runs on a shared machine)
      append: { type: "boolean", default: false },
    },
  });
  const chosen = values.blocks.split(",").map((n) => {
    const b = blocks.find((x) => x.name === n);
    if (b === undefined)
      throw new BenchUsageError(`--blocks: unknown block "${n}"; known: ${blocks.map((x) => x.name)}`);
    return b;
  });
  const int = (k: string, raw: string, min: number): number => {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min)
      throw new BenchUsageError(`--${k}: expected an integer >= ${min}, got "${raw}"`);
    return v;
  };
  return {
    threadCounts: values.threads.split(",").map((t) => int("threads", t, 1)),
    warmup: int("warmup", values.warmup, 0),
    iters: int("iters", values.iters, 1),
    blocks: chosen,
    withWeights: values["with-weights"],
    append: values.append,
  };
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

type SideName = "pytorch" | "recompute" | "saveActivations";

interface Side {
  name: SideName;
  stepper: Stepper<SideSummary>;
  gradOut: string;
  timings: Timings;
}

async function startSides(
  b: BlockShape,
  m: BlockModels,
  opts: Options,
  threads: number,
  dir: string,
): Promise<Side[]> {
  const sides: Side[] = [];
  const timings = (): Timings => ({ step: [], forward: [], backward: [], cpu: [] });
  const torchGrad = join(dir, `${b.name}.torch-grad.bin`);
  const torchArgs = ["-W", "ignore", torchScript, "time", torchGrad, ...shapeArgs(b)];
  torchArgs.push("--threads", String(threads), "--warmup", String(opts.warmup));
  if (opts.withWeights) torchArgs.push("--weights");
  const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
  try {
    const torch = await Stepper.start<SideSummary>("pytorch", "/usr/bin/python3", torchArgs, env);
    sides.push({ name: "pytorch", stepper: torch, gradOut: torchGrad, timings: timings() });
    const variants = [
      ["recompute", "recompute", m.recompute],
      ["saveActivations", "save-activations", m.saveActivations],
    ] as const;
    for (const [name, variant, models] of variants) {
      const gradOut = join(dir, `${b.name}.${variant}-grad.bin`);
      const cfg: OrtSideConfig = {
        ...{ variant, models: [...models], inputsBin: m.inputsBin, shape: [b.batch, b.seq, b.hidden] },
        ...{ input: INPUT, output: OUTPUT, threads, warmup: opts.warmup, gradOut },
      };
      const args = ["--conditions=source", "--import", "tsx", join(here, "ort-side.ts"), JSON.stringify(cfg)];
      const stepper = await Stepper.start<SideSummary>(
        `ours ${variant}`,
        process.execPath,
        args,
        process.env,
      );
      sides.push({ name, stepper, gradOut, timings: timings() });
    }
    return sides;
  } catch (err) {
    for (const s of sides) s.stepper.kill();
    throw err;
  }
}

/** Timed rounds, one step per side per round, the starting side rotating, so load drifts hit all. */
async function interleave(sides: Side[], iters: number): Promise<void> {
  for (let i = 0; i < iters; i++) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(i + k) % sides.length]!;
      const t = await side.stepper.step();
      side.timings.step.push(t.stepMs);
      side.timings.cpu.push(t.cpuMs ?? Number.NaN);
      side.timings.forward.push(t.forwardMs ?? Number.NaN);
      side.timings.backward.push(t.backwardMs ?? Number.NaN);
    }
  }
}

async function runBlock(
  b: BlockShape,
  m: BlockModels,
  opts: Options,
  threads: number,
  dir: string,
): Promise<BlockResult> {
  console.error(
    `bench:engine: ${b.name} (hidden ${b.hidden}, heads ${b.heads}, seq ${b.seq}, batch ${b.batch}), ${threads} threads`,
  );
  const sides = await startSides(b, m, opts, threads, dir);
  const result: Partial<Record<SideName, SideResult>> = {};
  try {
    await interleave(sides, opts.iters);
    for (const s of sides) result[s.name] = { ...(await s.stepper.finish()), ...s.timings };
  } finally {
    for (const s of sides) s.stepper.kill();
  }
  const reference = readF32(sides[0]!.gradOut);
  for (const s of sides.slice(1))
    result[s.name]!.gradInputRelErrVsPytorch = relErr(readF32(s.gradOut), reference);
  return {
    shape: b,
    threads,
    wrt: opts.withWeights ? `${INPUT} and all ${m.wrt.length - 1} weights` : `${INPUT} (frozen block)`,
    gradientModelBuildMs: m.buildMs,
    pytorch: result.pytorch!,
    recompute: result.recompute!,
    saveActivations: result.saveActivations!,
  };
}

async function main(): Promise<void> {
  const setup = spawnSync("bash", [join(here, "ensure-torch.sh")], { stdio: "inherit" });
  if (setup.status !== 0)
    throw new SideProcessError("bench:engine: PyTorch is not available; see ensure-torch.sh's message above");
  const opts = options();
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "bench-engine-"));
  const results: BlockResult[] = [];
  try {
    for (const b of opts.blocks) {
      const m = await prepareBlock(b, dir, opts.withWeights);
      for (const threads of opts.threadCounts) results.push(await runBlock(b, m, opts, threads, dir));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const command = [
    "npm run bench:engine",
    ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : []),
  ];
  writeResults(
    {
      date: new Date().toISOString(),
      command: command.join(" "),
      machine: machineFacts(loadStart, loadavg()),
      threadCounts: opts.threadCounts,
      warmup: opts.warmup,
      iters: opts.iters,
      blocks: results,
    },
    opts.append,
  );
}

await main();
