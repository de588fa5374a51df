// Summarises the engine benchmark: medians, ratios ours/PyTorch, peak RSS; writes
// bench/results/engine.json and engine.md and prints the table.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import type { BlockShape } from "./blocks.js";
import { median, type Timings } from "./stats.js";

/** What a side's child process reports at the end (ort-side.ts, torch_block.py). */
export interface SideSummary {
  side: "pytorch" | "onnxruntime";
  variant: string;
  rssBaselineKiB: number;
  rssPeakKiB: number;
  savedActivationBytes?: number;
  versions?: Record<string, string>;
}

export interface SideResult extends SideSummary, Timings {
  /** ‖dx − dx_torch‖/‖dx_torch‖ of the last step's input gradient (ours only) */
  gradInputRelErrVsPytorch?: number;
}

export interface BlockResult {
  shape: BlockShape;
  threads: number;
  wrt: string;
  gradientModelBuildMs: { recompute: number; saveActivations: number };
  pytorch: SideResult;
  recompute: SideResult;
  saveActivations: SideResult;
}

export interface Machine {
  cpu: string;
  logicalCpus: number;
  memoryGiB: number;
  os: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  node: string;
  onnxruntimeNode: string;
  gitCommit: string;
}

export interface BenchRun {
  date: string;
  command: string;
  machine: Machine;
  threadCounts: number[];
  warmup: number;
  iters: number;
  blocks: BlockResult[];
}

const resultsDir = new URL("../results/", import.meta.url).pathname;

export function tryRead(f: () => string): string {
  try {
    return f().trim();
  } catch {
    return "unknown";
  }
}

export function machineFacts(loadStart: number[], loadEnd: number[]): Machine {
  const require = createRequire(import.meta.url);
  const ortPkg = require.resolve("onnxruntime-node/package.json");
  const round = (xs: number[]): number[] => xs.map((x) => Math.round(x * 100) / 100);
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    logicalCpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: tryRead(() => readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? ""),
    loadAverageStart: round(loadStart),
    loadAverageEnd: round(loadEnd),
    node: process.version,
    onnxruntimeNode: (JSON.parse(readFileSync(ortPkg, "utf8")) as { version: string }).version,
    gitCommit: tryRead(() =>
      execFileSync("git", ["rev-parse", "--short", "HEAD"], {
        encoding: "utf8",
        // outside a checkout (the GPU machine's pack) git's "fatal: not a git repository" is noise
        stdio: ["ignore", "pipe", "ignore"],
      }),
    ),
  };
}

const ms = (xs: number[]): string => median(xs).toFixed(1);
const best = (xs: number[]): string => Math.min(...xs).toFixed(1);
const mib = (kib: number): string => (kib / 1024).toFixed(0);
const ratio = (ours: number[], theirs: number[]): string => (median(ours) / median(theirs)).toFixed(2);
const bestRatio = (ours: number[], theirs: number[]): string =>
  (Math.min(...ours) / Math.min(...theirs)).toFixed(2);

function tableRows(b: BlockResult): string[] {
  const s = b.shape;
  const label = `${s.name} (${s.hidden}/${s.heads}h, seq ${s.seq}, batch ${s.batch}) | ${b.threads}`;
  const row = (name: string, r: SideResult): string => {
    const saved = r.savedActivationBytes === undefined ? "–" : (r.savedActivationBytes / 2 ** 20).toFixed(0);
    const err = r.gradInputRelErrVsPytorch?.toExponential(1) ?? "–";
    return (
      `| ${label} | ${name} | ${ms(r.step)} | ${ms(r.forward)} + ${ms(r.backward)} | ${best(r.step)} | ` +
      `**${ratio(r.step, b.pytorch.step)}** | ${bestRatio(r.step, b.pytorch.step)} | ` +
      `${ms(r.cpu)} | ${ratio(r.cpu, b.pytorch.cpu)} | ` +
      `${mib(r.rssPeakKiB)} (${mib(r.rssBaselineKiB)}) | ${saved} | ${err} |`
    );
  };
  return [
    row("PyTorch eager", b.pytorch),
    row("ours: recompute", b.recompute),
    row("ours: save-activations", b.saveActivations),
  ];
}

const TITLE =
  "# Engine benchmark: transformer block forward + backward, ours (onnxruntime-node) vs PyTorch eager";

function runSection(run: BenchRun): string[] {
  const m = run.machine;
  const torch = run.blocks[0]?.pytorch.versions ?? {};
  return [
    `Recorded ${run.date} with \`${run.command}\` (commit ${m.gitCommit}).`,
    "",
    `- Machine: ${m.cpu}, ${m.logicalCpus} logical CPUs, ${m.memoryGiB} GiB, ${m.os}; load average ` +
      `${m.loadAverageStart.join(" / ")} at start, ${m.loadAverageEnd.join(" / ")} at end (a shared machine).`,
    `- Threads: ${run.threadCounts.join(" and ")}, the same on both sides (ORT intraOpNumThreads, interOp 1, ` +
      "sequential; torch.set_num_threads, interop 1, OMP_NUM_THREADS).",
    `- Versions: Node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}; PyTorch ${torch.torch} ` +
      `(Python ${torch.python}, BLAS ${torch.blas}).`,
    `- Iterations: ${run.warmup} warm-up steps per side, then ${run.iters} timed rounds; a round times one ` +
      "step of every side in turn (the first side rotating), so drifting background load hits all sides alike; " +
      "medians shown, every step in engine.json.",
    `- Block: torchvision \`EncoderBlock\` (pre-LN, MHA, erf-GELU MLP 4×), eval mode, the same weights ` +
      `on both sides (ours runs its torch.onnx export, opset 17).`,
    `- Backward: gradient w.r.t. ${run.blocks[0]?.wrt ?? "?"}, given a fixed upstream gradient.`,
    "- A step is what the body server does per sample batch: the forward request, then the backward request.",
    "  PyTorch: eager forward keeping the autograd graph, then `backward`. Ours, recompute: run M, then G",
    "  (the forward again, as far as the gradient needs it, + VJP; G returns only the input gradient, like the",
    "  body server's recompute graph). Ours, save-activations: the forward model also returns the activations",
    "  the backward needs; the backward model takes them.",
    "- Peak RSS: `ru_maxrss` of each side's own child process (in brackets: after loading the runtime, before",
    "  the model); saved MiB: activations the save-activations forward hands back per step.",
    "- relErr: ‖dx_ours − dx_torch‖/‖dx_torch‖ of the input gradient, a check that both sides computed the same.",
    "- Best step: the fastest timed step, the least disturbed by other processes; on a shared machine the ratio " +
      "of bests is the steadier estimate, the ratio of medians the one asked for. Multi-threaded PyTorch " +
      "(OpenMP) degrades far more than ORT when other processes hold the cores, so ratios at more than one " +
      "thread swing with the machine's load; compare rows of the same thread count only.",
    "- CPU ms: the step's CPU time in the side's process (user + system, all threads). At one thread it is " +
      "the estimate least moved by other processes (time spent descheduled does not count); at more threads " +
      "it also counts threads spinning while they wait (ORT and OpenMP both spin), so it is no speed measure there.",
    "",
    "| block | threads | side | step ms (median) | fwd + bwd ms | best step ms | ratio to PyTorch (medians) | ratio (best) | CPU ms (median) | ratio (CPU) | peak RSS MiB (baseline) | saved MiB | relErr |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...run.blocks.flatMap(tableRows),
    "",
    "Gradient model generation (writeGradientModel, not part of a step): " +
      run.blocks
        .filter((b, i) => run.blocks.findIndex((x) => x.shape.name === b.shape.name) === i)
        .map(
          (b) =>
            `${b.shape.name} ${b.gradientModelBuildMs.recompute.toFixed(0)} ms (recompute), ` +
            `${b.gradientModelBuildMs.saveActivations.toFixed(0)} ms (save-activations)`,
        )
        .join("; ") +
      ".",
    "",
  ];
}

/** One run: the title and its section; several: one section per run, oldest first. */
export function markdown(runs: readonly BenchRun[]): string {
  if (runs.length === 1) return [TITLE, "", ...runSection(runs[0] as BenchRun)].join("\n");
  return [
    TITLE,
    "",
    `${runs.length} runs of the same code on a shared machine, oldest first; compare them to see how much ` +
      "the other load moved the numbers.",
    "",
    ...runs.flatMap((r, i) => [`## Run ${i + 1}`, "", ...runSection(r)]),
  ].join("\n");
}

/** engine.json holds one run, or { runs: [...] } after --append. */
function earlierRuns(): BenchRun[] {
  try {
    const old = JSON.parse(readFileSync(`${resultsDir}engine.json`, "utf8")) as
      BenchRun | { runs: BenchRun[] };
    return "runs" in old ? old.runs : [old];
  } catch {
    return [];
  }
}

export function writeResults(run: BenchRun, append = false): void {
  const runs = append ? [...earlierRuns(), run] : [run];
  const json = runs.length === 1 ? run : { runs };
  writeFileSync(`${resultsDir}engine.json`, `${JSON.stringify(json, null, 2)}\n`);
  const md = markdown(runs);
  writeFileSync(`${resultsDir}engine.md`, md);
  console.log(md);
}
