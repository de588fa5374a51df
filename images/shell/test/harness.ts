// Test harness for the process entry points: run configs written as the operator writes them, the
// entry point spawned as a real child process, its JSON log lines collected, HTTP endpoints probed,
// and the connections of a real nats-server read from its monitoring endpoint (/connz).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyDefaults, toRunConfig, type RunConfig } from "@sfprompt/api";
import { PNG } from "pngjs";
import { after, before } from "node:test";
import { startNatsServer, type TestNats, type TestNatsOptions } from "@sfprompt/protocol/testing";
import { tinyBundle, type BundleFixture } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { loadableAs } from "../../../packages/sfprompt/test/checkout-for-user.js";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** The entry points under test, run from source as `node --import tsx`. */
export const ENTRY = {
  server: join(ROOT, "images/server/src/bin.ts"),
  client: join(ROOT, "images/client/src/bin.ts"),
} as const;

/** The run config of a small job; `spec` is merged over the defaults. */
export function runConfig(spec: Record<string, unknown> = {}, name = `job-${process.pid}`): RunConfig {
  const base: Record<string, unknown> = {
    method: "sfprompt",
    prompts: { length: 4 },
    clients: { count: 2, perRound: { count: 2 } },
    data: {
      source: { builtin: "fashion-mnist" },
      partitioning: { strategy: "iid", seed: 1, samplesPerClient: 32 },
    },
    training: {
      rounds: 1,
      batchSize: 16,
      seed: 5,
      optimizer: { name: "adam", learningRate: 0.01 },
      quorum: { count: 2 },
      roundTimeoutSeconds: 60,
      evaluation: { maxSamples: 40 },
    },
    server: { executionProvider: "cpu" },
  };
  const job = applyDefaults({
    apiVersion: "sfprompt.io/v1alpha1",
    kind: "SFPromptJob",
    metadata: { name, namespace: "test" },
    spec: deepMerge(base, spec),
  });
  return toRunConfig(job);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const old = out[k];
    const both = [v, old].every((x) => x !== null && typeof x === "object" && !Array.isArray(x));
    out[k] = both ? deepMerge(old as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** A temp dir removed by `remove()`. */
export function tempDir(): { dir: string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-images-"));
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * An image folder at `root`: a class folder per name in `classes`, each holding `perClass` 28×28 PNGs
 * whose colour tells class and image apart.
 */
export function pngFolder(root: string, classes: readonly string[], perClass: number): string {
  for (const [c, cls] of classes.entries()) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const img = new PNG({ width: 28, height: 28 });
      for (let p = 0; p < 28 * 28; p++) img.data.set([c * 60, i * 20, p % 256, 255], p * 4);
      writeFileSync(join(root, cls, `${i}.png`), PNG.sync.write(img));
    }
  }
  return root;
}

export type LogLine = Record<string, unknown> & { event: string; level: string };

export interface Proc {
  readonly child: ChildProcess;
  /** Every stdout line parsed as JSON (a line that is not JSON fails the test at `exit`). */
  readonly logs: LogLine[];
  readonly nonJson: string[];
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Resolves with the first log line matching `pred` (rejects after `timeoutMs` or at exit). */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns an entry point with `args` and `env` (added to a clean env: PATH and HOME only). */
export function spawnEntry(
  entry: string,
  args: readonly string[],
  env: Record<string, string> = {},
  /** Run as this user (the images' 10001), which needs root here; HOME is then the temp folder. */
  user?: { uid: number; gid: number },
): Proc {
  const home = user === undefined ? (process.env.HOME ?? "/root") : tmpdir();
  // as another user, from a copy of the checkout where that user cannot read it (checkout-for-user.ts)
  const at = user === undefined ? { root: ROOT, file: entry } : loadableAs(user, entry);
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", at.file, ...args], {
    cwd: at.root,
    env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(user ?? {}),
  });
  const logs: LogLine[] = [];
  const nonJson: string[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buffer = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => {
    buffer += b.toString();
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim() === "") continue;
      try {
        const parsed = JSON.parse(line) as LogLine;
        logs.push(parsed);
        for (const w of waiters.filter((x) => x.pred(parsed))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      } catch {
        nonJson.push(line);
      }
    }
  });
  child.stderr!.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-8000)));
  let killedAt = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.once("exit", (code, signal) =>
      resolve({ code, signal, ms: killedAt ? Date.now() - killedAt : -1 }),
    ),
  );
  return {
    child,
    logs,
    nonJson,
    stderr: () => stderr,
    exited,
    waitForLog(pred, timeoutMs = 30_000) {
      const found = logs.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching log line in ${timeoutMs} ms; got ${summary(logs)}\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then(() => {
          clearTimeout(timer);
          const late = logs.find(pred);
          if (late) resolve(late);
          else reject(new Error(`exited without a matching log line; got ${summary(logs)}\n${stderr}`));
        });
      });
    },
    kill(signal = "SIGTERM") {
      killedAt = Date.now();
      child.kill(signal);
    },
  };
}

function summary(logs: LogLine[]): string {
  return logs
    .map((l) => `${l.event}${l.error ? `(${String(JSON.stringify(l.error)).slice(0, 200)})` : ""}`)
    .join(", ");
}

/** GET http://127.0.0.1:port/path → status and body. */
export async function get(
  port: number,
  path: string,
): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") ?? "" };
}

/** Polls `f` until it returns a value other than undefined. */
export async function until<T>(
  f: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Connz {
  num_connections: number;
  connections?: { name?: string; cid: number }[];
}

/** The nats-server's open connections (monitoring endpoint). */
export async function connz(monitorUrl: string): Promise<Connz> {
  const res = await fetch(`${monitorUrl.replace(/\/$/, "")}/connz`);
  return (await res.json()) as Connz;
}

/** Names of the open connections whose name starts with `prefix`. */
export async function connectionNames(monitorUrl: string, prefix: string): Promise<string[]> {
  const c = await connz(monitorUrl);
  return (c.connections ?? []).map((x) => x.name ?? "").filter((n) => n.startsWith(prefix));
}

/** Metric family names (from # TYPE lines) of a Prometheus text body. */
export function metricFamilies(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of body.split("\n")) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Every sample `family{labels} value` of a Prometheus text body, its labels parsed. */
export function samples(body: string, family: string): [Record<string, string>, number][] {
  const out: [Record<string, string>, number][] = [];
  const re = new RegExp(`^${family}\\{([^}]*)\\} (\\S+)$`);
  for (const line of body.split("\n")) {
    const m = re.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) labels[k!] = v!;
    out.push([labels, Number(m[2])]);
  }
  return out;
}

/** The value of the sample `name{labels}` (exact label text, e.g. `{role="server"}`), if present. */
export function sample(body: string, nameWithLabels: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(`${nameWithLabels} `));
  return line === undefined ? undefined : Number(line.slice(nameWithLabels.length + 1));
}

/**
 * Waits for `proc`'s first start-up outcome and checks it refused its config: one `config.invalid`
 * line naming `field` (its error starting with the field, naming it once, matching `says`), then exit
 * 1; the process is killed whatever the outcome.
 */
export async function expectRefusedAtStart(proc: Proc, field: string, says: RegExp): Promise<void> {
  try {
    const line = await proc.waitForLog(
      (l) => l.event === "config.invalid" || l.event === "runtime.failed" || l.event === "runtime.ready",
      60_000,
    );
    assert.equal(line.event, "config.invalid", JSON.stringify(line));
    assert.equal(line.field, field);
    const error = String(line.error);
    assert.ok(error.startsWith(`${field}: `), error);
    assert.match(error, says);
    assert.equal(error.split(field).length - 1, 1, `${field} named once: ${error}`);
    assert.equal((await proc.exited).code, 1, proc.stderr());
  } finally {
    proc.kill("SIGKILL");
  }
}

export interface EntryFixtures {
  /** A real nats-server (started before the file's tests). */
  readonly nats: TestNats;
  /** The tiny partition bundle the entry points load. */
  readonly bundle: BundleFixture;
  /** A temporary folder for run configs and data. */
  readonly tmp: ReturnType<typeof tempDir>;
}

/**
 * Registers the before/after hooks of an entry-point test file: a nats-server (with `natsOptions`),
 * the tiny bundle and a temporary folder, all removed after the file's tests. `nats` and `bundle` are
 * set once `before` has run.
 */
export function useEntryFixtures(natsOptions: TestNatsOptions = {}): EntryFixtures {
  const w = { tmp: tempDir() } as { nats: TestNats; bundle: BundleFixture; tmp: ReturnType<typeof tempDir> };
  before(async () => {
    w.nats = await startNatsServer(natsOptions);
    w.bundle = tinyBundle();
  });
  after(async () => {
    await w.nats?.stop();
    w.bundle?.remove();
    w.tmp.remove();
  });
  return w;
}
