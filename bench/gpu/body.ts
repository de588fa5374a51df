// GPU body benchmark: the server's body partition on CUDA against CPU, side by side in one run.
// The body service's path (forward keeping activations, then backward to ∂L/∂a_h) over the same
// bundle and the same inputs; each round times one CPU step and one CUDA step (alternating which
// goes first), and the outputs of the two providers are compared. Weights are random (only shapes
// matter for speed): the demo ViT and a ViT-B/16 at 224×224, 1 head block, 10 prompt tokens.
// Needs ONNX Runtime's CUDA provider next to libonnxruntime.so.1 (bench/gpu/README.md); without it
// the CUDA bundle refuses to open (cpuFallback false) and the run says why.
// Usage: node --conditions=source --import tsx bench/gpu/body.ts [--models demo,vit-b16]
//          [--batch 32] [--iters 8] [--warmup 2] [--threads N] [--out bench/results] [--commit X]
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { prepareBundle, writeModel, type Tensor } from "@sfprompt/engine";
import {
  buildDemoVit,
  DEMO_RECIPE,
  f32Tensor,
  PartitionBundle,
  Rng,
  type DemoArchitecture,
  type ExecutionProvider,
} from "@sfprompt/core";
import { machineFacts, tryRead, type Machine } from "../engine/report.js";
import { median, relErr } from "../engine/stats.js";
import { VIT_B16 } from "../models.js";

const MODELS: Record<string, DemoArchitecture> = {
  demo: { ...DEMO_RECIPE.architecture },
  "vit-b16": { ...VIT_B16, classes: 10 },
};

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "demo,vit-b16" },
    batch: { type: "string", default: "32" },
    iters: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
    threads: { type: "string", default: String(cpus().length) },
    out: { type: "string", default: "bench/results" },
    commit: { type: "string" },
    // a dry run of this script where CUDA cannot be used: the "CUDA" side falls back to CPU and the
    // report says so in its provider column
    "allow-fallback": { type: "boolean", default: false },
    // the body service's batching on the CUDA side: N requests of --batch rows run one by one
    // against one run of N·batch rows (recompute), as concurrent clients' requests are grouped
    batching: { type: "string", default: "0" },
  },
});
const batch = Number(values.batch);
const iters = Number(values.iters);
const warmup = Number(values.warmup);
const threads = Number(values.threads);
const batching = Number(values.batching);

interface Side {
  provider: ExecutionProvider | undefined;
  forwardMs: number[];
  backwardMs: number[];
  stepMs: number[];
}

/** N requests one by one against one batched run, on the CUDA side (recompute). */
interface BatchingResult {
  model: string;
  provider: ExecutionProvider | undefined;
  requests: number;
  rowsPerRequest: number;
  /** ms for all N requests, one session run pair each */
  oneByOneMs: number[];
  /** ms for one forward + backward over the N·batch rows */
  batchedMs: number[];
  /** ‖batched − one-by-one‖ / ‖one-by-one‖ of ∂L/∂a_h */
  relErr: number;
}

interface ModelResult {
  model: string;
  variant: Variant;
  architecture: DemoArchitecture;
  batch: number;
  headOutputShape: number[];
  bodyOutputShape: number[];
  prepareMs: number;
  cpu: Side;
  cuda: Side;
  /** ‖x_cuda − x_cpu‖ / ‖x_cpu‖ of the last step's body output and input gradient */
  relErr: { bodyOutput: number; gradHeadOutput: number };
}

function randomTensor(rng: Rng, dims: number[], scale: number, offset = 0): Tensor {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = offset + scale * (rng.next() * 2 - 1);
  return f32Tensor(data, dims);
}

/** The two ways the body service can run a batch (BodyGradientMode); recompute is its default. */
const VARIANTS = ["recompute", "save-activations"] as const;
type Variant = (typeof VARIANTS)[number];

/** `t` repeated `n` times along the batch axis. */
function repeatRows(t: Tensor, n: number): Tensor {
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length * n);
  for (let i = 0; i < n; i++) out.set(src, i * src.length);
  return f32Tensor(out, [t.dims[0]! * n, ...t.dims.slice(1)]);
}

async function batchingOf(
  name: string,
  bundle: PartitionBundle,
  headOut: Tensor,
  grad: Tensor,
): Promise<BatchingResult> {
  const bigHead = repeatRows(headOut, batching);
  const bigGrad = repeatRows(grad, batching);
  const oneByOne: number[] = [];
  const batched: number[] = [];
  let last: { one?: Float32Array; all?: Float32Array } = {};
  for (let i = 0; i < warmup + iters; i++) {
    let t0 = performance.now();
    const parts: Float32Array[] = [];
    for (let k = 0; k < batching; k++) parts.push((await step("recompute", bundle, headOut, grad)).dx);
    const a = performance.now() - t0;
    t0 = performance.now();
    const all = (await step("recompute", bundle, bigHead, bigGrad)).dx;
    const b = performance.now() - t0;
    if (i >= warmup) {
      oneByOne.push(a);
      batched.push(b);
    }
    const one = new Float32Array(all.length);
    parts.forEach((p, k) => one.set(p, k * p.length));
    last = { one, all };
    process.stderr.write(`${name} batching ×${batching}: round ${i + 1}/${warmup + iters}\n`);
  }
  return {
    model: name,
    provider: bundle.provider,
    requests: batching,
    rowsPerRequest: batch,
    oneByOneMs: oneByOne,
    batchedMs: batched,
    relErr: relErr(last.all!, last.one!),
  };
}

async function step(
  variant: Variant,
  bundle: PartitionBundle,
  headOut: Tensor,
  grad: Tensor,
): Promise<{ f: number; b: number; out: Float32Array; dx: Float32Array }> {
  const t0 = performance.now();
  if (variant === "recompute") {
    const out = await bundle.bodyForward(headOut);
    const t1 = performance.now();
    const dx = await bundle.bodyBackward(headOut, grad);
    return { f: t1 - t0, b: performance.now() - t1, out: out.data, dx: dx.data };
  }
  const fwd = await bundle.bodyForwardSaving(headOut);
  const t1 = performance.now();
  const dx = await bundle.bodyBackwardSaved(fwd.saved, grad);
  return { f: t1 - t0, b: performance.now() - t1, out: fwd.output.data, dx: dx.data };
}

async function benchModel(
  name: string,
  arch: DemoArchitecture,
  work: string,
): Promise<{ results: ModelResult[]; batching?: BatchingResult }> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const { model } = buildDemoVit(arch, 0);
  writeModel(join(dir, "model.onnx"), model);
  prepareBundle({
    model: join(dir, "model.onnx"),
    out: join(dir, "bundle"),
    headBlocks: 1,
    promptLength: 10,
    pooling: "cls",
    seed: 0,
    full: false,
  });
  const prepareMs = performance.now() - t0;
  const cpu = PartitionBundle.load(join(dir, "bundle"), {
    executionProvider: "cpu",
    intraOpThreads: threads,
  });
  const cuda = PartitionBundle.load(join(dir, "bundle"), {
    executionProvider: "cuda",
    cpuFallback: values["allow-fallback"],
    intraOpThreads: threads,
  });
  try {
    await cpu.openBody();
    await cuda.openBody();
    if (cuda.provider !== "cuda" && !values["allow-fallback"])
      throw new Error(`the CUDA bundle opened on ${String(cuda.provider)}`);
    const rng = new Rng(1);
    const c = arch.channels ?? 1;
    const images = randomTensor(rng, [batch, c, arch.image, arch.image], 0.5, 0.5);
    const { prompt } = cpu.initialParams();
    const x = cpu.inputsOf({
      x: images.data as Float32Array,
      shape: [batch, c, arch.image, arch.image],
      labels: new Int32Array(batch),
      indices: new Int32Array(batch),
    });
    const headOut = await cpu.headForward(x, prompt);
    const probe = await cpu.bodyForward(headOut);
    const grad = randomTensor(rng, [...probe.dims], 1e-2);
    const results: ModelResult[] = [];
    for (const variant of VARIANTS) {
      const sides = { cpu: [] as number[][], cuda: [] as number[][] };
      let last: { cpu?: Awaited<ReturnType<typeof step>>; cuda?: Awaited<ReturnType<typeof step>> } = {};
      for (let i = 0; i < warmup + iters; i++) {
        const order: Array<"cpu" | "cuda"> = i % 2 === 0 ? ["cpu", "cuda"] : ["cuda", "cpu"];
        for (const side of order) {
          const r = await step(variant, side === "cpu" ? cpu : cuda, headOut, grad);
          last = { ...last, [side]: r };
          if (i >= warmup) sides[side].push([r.f, r.b]);
        }
        process.stderr.write(
          `${name} ${variant}: round ${i + 1}/${warmup + iters}${i < warmup ? " (warm-up)" : ""}\n`,
        );
      }
      const side = (p: "cpu" | "cuda", b: PartitionBundle): Side => ({
        provider: b.provider,
        forwardMs: sides[p].map((x) => x[0]!),
        backwardMs: sides[p].map((x) => x[1]!),
        stepMs: sides[p].map((x) => x[0]! + x[1]!),
      });
      results.push({
        model: name,
        variant,
        architecture: arch,
        batch,
        headOutputShape: [...headOut.dims],
        bodyOutputShape: [...probe.dims],
        prepareMs,
        cpu: side("cpu", cpu),
        cuda: side("cuda", cuda),
        relErr: {
          bodyOutput: relErr(last.cuda!.out, last.cpu!.out),
          gradHeadOutput: relErr(last.cuda!.dx, last.cpu!.dx),
        },
      });
    }
    return {
      results,
      ...(batching > 1 ? { batching: await batchingOf(name, cuda, headOut, grad) } : {}),
    };
  } finally {
    await cpu.release();
    await cuda.release();
  }
}

/** The machine as the engine benchmark records it, plus the GPU; --commit names the commit where git cannot. */
function machine(loadStart: number[]): Machine & { gpu: string } {
  const facts = machineFacts(loadStart, loadavg());
  const gpu = tryRead(() =>
    execFileSync("nvidia-smi", ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], {
      encoding: "utf8",
    }),
  );
  return { gpu, ...facts, gitCommit: values.commit ?? facts.gitCommit };
}

function markdown(results: ModelResult[], m: Machine & { gpu: string }, command: string): string {
  const f = (x: number): string => x.toFixed(1);
  const lines = [
    "# GPU body benchmark: the server's body partition on CUDA vs CPU (onnxruntime-node)",
    "",
    `Recorded ${new Date().toISOString()} with \`${command}\` (commit ${m.gitCommit}).`,
    "",
    `- Machine: ${m.gpu}; ${m.cpu}, ${m.logicalCpus} logical CPUs, ` +
      `${m.memoryGiB} GiB; Node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}.`,
    `- Step = the body service's work for one batch: forward, then backward to ∂L/∂a_h, in either of its ` +
      `two variants: recompute (its default: the backward graph runs the forward again from a_h) and ` +
      `save-activations (the forward returns the tensors the backward reads, which cross host memory). CPU sessions use ${threads} intra-op threads; both sides open the same ` +
      `bundle and take the same inputs; ${iters} timed rounds after ${warmup} warm-up, each round one step per ` +
      `side, alternating which goes first. Times are medians in ms.`,
    "",
    "| model | variant | batch | body in → out | CPU step (fwd + bwd) | CUDA side ran on | CUDA step (fwd + bwd) | CPU / CUDA | rel. err a_b | rel. err ∂a_h |",
    "| --- | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.model} | ${r.variant} | ${r.batch} | ${r.headOutputShape.join("×")} → ${r.bodyOutputShape.join("×")} | ` +
        `${f(median(r.cpu.stepMs))} (${f(median(r.cpu.forwardMs))} + ${f(median(r.cpu.backwardMs))}) | ` +
        `${String(r.cuda.provider)} | ${f(median(r.cuda.stepMs))} (${f(median(r.cuda.forwardMs))} + ${f(median(r.cuda.backwardMs))}) | ` +
        `**${(median(r.cpu.stepMs) / median(r.cuda.stepMs)).toFixed(1)}×** | ` +
        `${r.relErr.bodyOutput.toExponential(1)} | ${r.relErr.gradHeadOutput.toExponential(1)} |`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

function batchingMarkdown(rs: BatchingResult[]): string {
  if (rs.length === 0) return "";
  const f = (x: number): string => x.toFixed(1);
  const lines = [
    "",
    `Batching on the CUDA side (recompute): ${rs[0]!.requests} requests of ${rs[0]!.rowsPerRequest} rows run one ` +
      "by one against one forward + backward over all their rows, as the body service groups concurrent " +
      "clients' requests. Medians in ms for all the requests; rows/s = rows over that time.",
    "",
    "| model | ran on | one by one | batched | one by one, rows/s | batched, rows/s | speed-up | rel. err ∂a_h |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rs) {
    const rows = r.requests * r.rowsPerRequest;
    const a = median(r.oneByOneMs);
    const b = median(r.batchedMs);
    lines.push(
      `| ${r.model} | ${String(r.provider)} | ${f(a)} | ${f(b)} | ${Math.round((rows * 1000) / a)} | ` +
        `${Math.round((rows * 1000) / b)} | **${(a / b).toFixed(2)}×** | ${r.relErr.toExponential(1)} |`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

const command = `node bench/gpu/body.ts ${process.argv.slice(2).join(" ")}`.trim();
const work = mkdtempSync(join(tmpdir(), "sfprompt-gpu-bench-"));
const loadStart = loadavg();
try {
  const results: ModelResult[] = [];
  const batchingResults: BatchingResult[] = [];
  for (const name of values.models.split(",")) {
    const arch = MODELS[name];
    if (arch === undefined)
      throw new Error(`--models: unknown model "${name}" (known: ${Object.keys(MODELS).join(", ")})`);
    const r = await benchModel(name, arch, work);
    results.push(...r.results);
    if (r.batching) batchingResults.push(r.batching);
  }
  const m = machine(loadStart);
  mkdirSync(values.out, { recursive: true });
  writeFileSync(
    join(values.out, "gpu-body.json"),
    `${JSON.stringify({ command, machine: m, threads, iters, warmup, results, batching: batchingResults }, null, 2)}\n`,
  );
  const md = markdown(results, m, command) + batchingMarkdown(batchingResults);
  writeFileSync(join(values.out, "gpu-body.md"), md);
  process.stdout.write(md);
} catch (e) {
  // the message names the graph and ORT's reason (cudaFailureReason); no stack for a known failure
  process.stderr.write(
    `bench/gpu/body.ts: ${(e as Error).message}${(e as Error).cause ? ` (${String((e as Error).cause)})` : ""}\n` +
      "(--allow-fallback runs the CUDA side on CPU where CUDA cannot be used, to check the script itself)\n",
  );
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
