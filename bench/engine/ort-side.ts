// ORT side of the engine benchmark, in its own child process (see stepper.ts for the protocol): one
// gradient variant of one block, a step being the forward request then the backward request.
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { SideProcessError, type StepTiming } from "./stepper.js";

export interface OrtSideConfig {
  variant: "recompute" | "save-activations";
  /** recompute: [M, G]; save-activations: [forward, backward] */
  models: [string, string];
  /** x then upstream gradient r, float32 LE, each of `shape` (written by torch_block.py export) */
  inputsBin: string;
  shape: number[];
  input: string;
  output: string;
  threads: number;
  warmup: number;
  /** where to write grad_<input> of the last step, for the cross-check against PyTorch */
  gradOut: string;
}

export interface OrtSideSummary {
  side: "onnxruntime";
  variant: OrtSideConfig["variant"];
  /** bytes of activations the save-activations forward returns per step (0 for recompute) */
  savedActivationBytes: number;
  rssBaselineKiB: number;
  rssPeakKiB: number;
}

function session(path: string, threads: number): Promise<InferenceSession> {
  return InferenceSession.create(path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
  });
}

function loadInputs(cfg: OrtSideConfig): { x: Tensor; r: Tensor } {
  const buf = readFileSync(cfg.inputsBin);
  const n = cfg.shape.reduce((a, b) => a * b, 1);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 8 * n));
  return {
    x: new Tensor("float32", all.slice(0, n), cfg.shape),
    r: new Tensor("float32", all.slice(n), cfg.shape),
  };
}

interface StepOutcome extends StepTiming {
  saved: number;
  grad: Tensor | undefined;
}

interface Sides {
  first: InferenceSession;
  second: InferenceSession;
  x: Tensor;
  r: Tensor;
}

async function step(cfg: OrtSideConfig, { first, second, x, r }: Sides): Promise<StepOutcome> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const fwd = await first.run({ [cfg.input]: x });
  const t1 = performance.now();
  // the backward request brings the upstream gradient; save-activations adds what the forward kept
  const feeds: Record<string, Tensor> = { ...fwd, [cfg.input]: x, [`grad_${cfg.output}`]: r };
  const bwd = await second.run(
    Object.fromEntries(second.inputNames.filter((n) => feeds[n]).map((n) => [n, feeds[n]!])),
  );
  const t2 = performance.now();
  const cpu = process.cpuUsage(c0);
  const saved = Object.entries(fwd)
    .filter(([k]) => k !== cfg.output)
    .reduce((s, [, t]) => s + (t.data as Float32Array).byteLength, 0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const grad = bwd[`grad_${cfg.input}`];
  return { stepMs: t2 - t0, forwardMs: t1 - t0, backwardMs: t2 - t1, cpuMs, saved, grad };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? "") as OrtSideConfig;
  const rssBaselineKiB = process.resourceUsage().maxRSS;
  const [first, second] = await Promise.all(cfg.models.map((m) => session(m, cfg.threads)));
  const sides: Sides = { first: first!, second: second!, ...loadInputs(cfg) };
  // at least one untimed step: the first run allocates ORT's arenas
  let last = await step(cfg, sides);
  for (let i = 1; i < cfg.warmup; i++) last = await step(cfg, sides);
  console.log(JSON.stringify({ ready: true }));
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== "step") break;
    last = await step(cfg, sides);
    console.log(
      JSON.stringify({
        stepMs: last.stepMs,
        forwardMs: last.forwardMs,
        backwardMs: last.backwardMs,
        cpuMs: last.cpuMs,
      }),
    );
  }
  await Promise.all([first!.release(), second!.release()]);
  if (last.grad === undefined) {
    throw new SideProcessError(
      `${cfg.variant}: the gradient model has no output grad_${cfg.input}; check its wrt`,
    );
  }
  writeFileSync(cfg.gradOut, new Uint8Array((last.grad.data as Float32Array).buffer));
  const summary: OrtSideSummary = {
    side: "onnxruntime",
    variant: cfg.variant,
    savedActivationBytes: last.saved,
    rssBaselineKiB,
    rssPeakKiB: process.resourceUsage().maxRSS,
  };
  console.log(JSON.stringify(summary));
}

await main();
