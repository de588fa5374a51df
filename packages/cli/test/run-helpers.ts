// What the `sfprompt run` tests share: the CLI as a real child process, a tiny job on an untrained
// ViT, and looks at the processes and files it leaves.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { buildDemoVit, DEMO_RECIPE } from "@sfprompt/core";
import { writeModel } from "@sfprompt/engine";
import { RunMetricsSchema, type RunMetrics } from "../src/run/metrics.js";
import { LOCK_FILE } from "../src/run/run-lock.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NODE_ARGS = ["--conditions=source", "--import", "tsx", MAIN];
const FREEZE_SEAM = fileURLToPath(new URL("./freeze-after-line.ts", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function sfprompt(...args: string[]): CliResult {
  return sfpromptWithin(180_000, ...args);
}

/** sfprompt(), killed (SIGKILL: a busy loop handles no SIGTERM) after `ms`: code -1 then. */
export function sfpromptWithin(ms: number, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [...NODE_ARGS, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: ms,
    killSignal: "SIGKILL",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 1 with one line naming the problem: no stack trace, no "internal error". */
export function assertUserError(r: CliResult, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
}

/** A tiny job (2 clients, 32 samples each, `training` as given) on a small untrained ViT in `dir`. */
export function writeTinyJob(
  dir: string,
  training = "{ rounds: 2, batchSize: 16, evaluation: { maxSamples: 50 } }",
): string {
  const model = join(dir, "vit.onnx");
  writeModel(model, buildDemoVit({ ...DEMO_RECIPE.architecture, width: 16, depth: 2, heads: 2 }, 3).model);
  const job = join(dir, "job.yaml");
  writeFileSync(
    job,
    [
      "apiVersion: sfprompt.io/v1alpha1",
      "kind: SFPromptJob",
      "metadata:",
      "  name: tiny",
      "spec:",
      "  model:",
      `    source: { path: ${JSON.stringify(model)} }`,
      "  data:",
      "    source: { builtin: mnist }",
      "    partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }",
      "  clients: { count: 2 }",
      "  server: { executionProvider: cpu }",
      `  training: ${training}`,
    ].join("\n"),
  );
  return job;
}

export function readRunMetrics(dir: string): RunMetrics {
  return RunMetricsSchema.parse(JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")));
}

/**
 * Cuts `dir`'s metrics.json back to its first round, without the final line: what a session leaves
 * when it stops after its round-1 line (metrics.json is written per round it shows).
 */
export function keepFirstRoundOnly(dir: string): void {
  const file = join(dir, "metrics.json");
  const whole = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown> & { rounds: unknown[] };
  const { final: _final, finishedAt: _at, ...rest } = whole;
  writeFileSync(file, JSON.stringify({ ...rest, rounds: whole.rounds.slice(0, 1) }));
}

/** pid and command line of every live process. */
export function processes(): Array<{ pid: number; ppid: number; args: string }> {
  return execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string }));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitUntil(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The server and client processes of the run in `out` (their command line names its config/). */
export function runProcesses(out: string): string[] {
  return processes()
    .filter((p) => p.args.includes(join(out, "config")))
    .map((p) => p.args);
}

/** The nats-server of the run in `out`: the pid its lock notes (`nats PID`), checked to be one. */
export function natsServerOf(out: string): number {
  const line = readFileSync(join(out, LOCK_FILE), "utf8")
    .split("\n")
    .find((l) => l.startsWith("nats "));
  const pid = Number(line?.slice("nats ".length));
  assert.ok(Number.isInteger(pid) && pid > 0, "the run notes its nats-server in its lock");
  assert.match(readFileSync(`/proc/${pid}/cmdline`, "utf8"), /nats-server/);
  return pid;
}

export interface StartedRun {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

/** Whether a process is stopped (SIGSTOP: state T in /proc), as freeze-after-line.ts leaves the CLI. */
export function isStopped(pid: number): boolean {
  return (
    readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /s, "")
      .charAt(0) === "T"
  );
}

export interface StartRunOptions extends SpawnOptions {
  /** Loads freeze-after-line.ts: the CLI stops itself (SIGSTOP) after a stderr line matching this. */
  readonly freezeAfter?: string;
}

/** Starts `sfprompt run` and resolves once its stderr shows `pattern`. */
export async function startRun(
  args: string[],
  pattern: RegExp,
  { freezeAfter, ...options }: StartRunOptions = {},
): Promise<StartedRun> {
  const seam =
    freezeAfter === undefined
      ? { args: NODE_ARGS, env: options.env ?? process.env }
      : {
          args: [...NODE_ARGS.slice(0, -1), "--import", FREEZE_SEAM, MAIN],
          env: { ...(options.env ?? process.env), SFPROMPT_TEST_FREEZE_AFTER: freezeAfter },
        };
  const child = spawn(process.execPath, [...seam.args, "run", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    ...options,
    env: seam.env,
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString();
      if (pattern.test(stderr)) resolve();
    });
    void exited.then(() => reject(new Error(`the run exited before ${pattern}:\n${stderr}`)));
  });
  return { child, exited, stderr: () => stderr };
}

/** A run folder, a nats-server with JetStream and a connection to it for a file's `--nats` tests. */
export interface NatsRunWorld {
  dir: string;
  nats: TestNats;
  nc: NatsConnection;
}

/** Registers the hooks that set up a NatsRunWorld before the file's tests and remove it after. */
export function natsRunWorld(prefix: string): NatsRunWorld {
  const w = {} as NatsRunWorld;
  before(async () => {
    w.dir = mkdtempSync(join(tmpdir(), prefix));
    w.nats = await startNatsServer();
    w.nc = await connect({ servers: w.nats.url });
  });
  after(async () => {
    await w.nc?.drain();
    await w.nats?.stop();
    if (w.dir) rmSync(w.dir, { recursive: true, force: true });
  });
  return w;
}

/**
 * The job `job` (writeTinyJob's in `dir`) on the built-in demo model, written to NAME.yaml, for
 * sfpromptFailingStart: it passes every check before the start (a demo model not cached needs a
 * cache folder the run can fill and Fashion-MNIST's files there, whose labels the checks do not read), and
 * the run stops when it pre-trains the demo model, after it said it starts and before it writes into
 * the run folder: a label of the train split is outside the ten classes, which only reading the
 * labels finds. For tests of what a start that fails leaves behind. (No Fashion-MNIST at all served
 * until the checks looked for it, ADR 0016 amendment 53; an op the engine cannot differentiate until
 * they built the gradient graphs, 28dcdff; 3 labels for 2 images until they read the IDX headers,
 * amendment 54.)
 */
export function writeFailsAfterStartJob(dir: string, job: string, name: string): string {
  const vit = join(dir, "vit.onnx");
  const file = join(dir, `${name}.yaml`);
  const text = readFileSync(job, "utf8");
  assert.ok(text.includes(`source: { path: ${JSON.stringify(vit)} }`), "the job is writeTinyJob's");
  writeFileSync(file, text.replace(`source: { path: ${JSON.stringify(vit)} }`, "source: { builtin: demo }"));
  return file;
}

/** An uncompressed IDX file of unsigned bytes (the MNIST layout): magic, dims, then the bytes. */
export function writeIdxBytes(path: string, dims: readonly number[], data: Uint8Array): void {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2); // unsigned byte
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  writeFileSync(path, Buffer.concat([header, data]));
}

/**
 * A Fashion-MNIST folder under `dir` whose four files are there and whole (both splits, as the
 * checks before a start read their headers) and whose train split holds a label of no class: 200.
 */
function damagedFashionMnist(dir: string): string {
  const fashion = mkdtempSync(join(dir, "damaged-fashion-mnist-"));
  for (const prefix of ["train", "t10k"]) {
    writeIdxBytes(join(fashion, `${prefix}-images-idx3-ubyte`), [2, 28, 28], new Uint8Array(2 * 28 * 28));
    const labels = prefix === "train" ? [0, 200] : [0, 1];
    writeIdxBytes(join(fashion, `${prefix}-labels-idx1-ubyte`), [2], Uint8Array.from(labels));
  }
  return fashion;
}

/**
 * sfprompt(...args) with a demo model cache of its own, empty, under `dir` (so the demo model is
 * built) and SFPROMPT_FASHION_MNIST_DIR a folder there with a damaged train split (so its
 * pre-training stops on it): writeFailsAfterStartJob's job then stops after its start.
 */
export function sfpromptFailingStart(dir: string, ...args: string[]): CliResult {
  const cache = mkdtempSync(join(dir, "demo-cache-"));
  const fashion = damagedFashionMnist(dir);
  return sfpromptWithEnv({ SFPROMPT_CACHE: cache, SFPROMPT_FASHION_MNIST_DIR: fashion }, ...args);
}

/** sfprompt(...args) with these variables added to its environment. */
export function sfpromptWithEnv(env: Record<string, string>, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [...NODE_ARGS, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 180_000,
    killSignal: "SIGKILL",
    env: { ...process.env, ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What the run of writeFailsAfterStartJob's job stops with under sfpromptFailingStart. */
export const FAILS_AFTER_START = /\S+\/train-labels-idx1-ubyte\S*: label 200 of sample 1 is outside 0\.\.9/;
