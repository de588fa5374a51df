// The server and client child processes of a local run: the same entry points the images run (via
// src/proc/main.ts), each logging JSON lines to its own file in the run directory.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export type Role = "server" | "client";

export interface ChildExit {
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  readonly logFile: string;
  /** Resolves once the process's output is all in logFile (its stdio closes after its exit). */
  readonly logged: Promise<void>;
}

/** node arguments that run src/proc/main.ts from source (tests, dev) or dist/proc/main.js (built). */
export function launcherArgs(): string[] {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    return ["--conditions=source", "--import", "tsx", fileURLToPath(new URL("../proc/main.ts", here))];
  }
  return [fileURLToPath(new URL("../proc/main.js", here))];
}

/** Starts one process: `main.ts <role> <config> [index]`, with its output in logs/<name>.log. */
export function startChild(role: Role, configPath: string, logDir: string, index?: number): Child {
  mkdirSync(logDir, { recursive: true });
  const name = index === undefined ? role : `${role}-${index}`;
  const args = [...launcherArgs(), role, configPath, ...(index === undefined ? [] : [String(index)])];
  // the IPC channel tells the child when this process goes away (killed, crashed): it stops then
  // instead of outliving the run (src/proc/main.ts)
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", "ipc"], env: process.env });
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<ChildExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ name, code, signal })),
  );
  // "close", not "exit": the last lines (its config.invalid or process.failed) may still be in the
  // pipes at its exit
  const logged = new Promise<void>((resolve) => child.once("close", () => log.end(resolve)));
  return { name, process: child, exited, logFile, logged };
}

/** How long a failed child's log may take to be complete before its failure is told without it. */
const LOG_WAIT_MS = 2000;

/** Why a child failed, as it logged it (src/proc/main.ts). */
export type ChildFailure =
  /** The job's input it could not have: the job's field to change, and the message naming it. */
  | { readonly kind: "config"; readonly field: string; readonly error: string }
  /** Its own config file (which sfprompt run wrote) it could not use: the message names file and field. */
  | {
      readonly kind: "config-file";
      readonly path: string;
      /** "(file)" for the file itself (unreadable, not JSON), else the first bad field. */
      readonly field: string;
      readonly error: string;
    }
  /** Anything else: the first line of the error, e.g. "TrainingArgumentError: labels[2] is 8: ...". */
  | { readonly kind: "failed"; readonly error: string };

function failureIn(line: string): ChildFailure | undefined {
  if (!line.includes('"config.invalid"') && !line.includes('"process.failed"')) return undefined;
  try {
    const e = JSON.parse(line) as { event?: unknown; error?: unknown; field?: unknown; path?: unknown };
    if (typeof e.error !== "string") return undefined;
    // the process config file's refusal names the file (src/proc/main.ts configOf); the job's input's does not
    if (e.event === "config.invalid" && typeof e.path === "string")
      return {
        kind: "config-file",
        path: e.path,
        field: typeof e.field === "string" ? e.field : "(file)",
        error: e.error,
      };
    if (e.event === "config.invalid" && typeof e.field === "string")
      return { kind: "config", field: e.field, error: e.error };
    if (e.event === "process.failed") return { kind: "failed", error: e.error.split("\n")[0]! };
  } catch {
    // a line cut short or not ours
  }
  return undefined;
}

/** The failure a failed child logged last (config.invalid or process.failed), or undefined when none. */
export async function failureOf(c: Child): Promise<ChildFailure | undefined> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([c.logged, new Promise<void>((resolve) => (timer = setTimeout(resolve, LOG_WAIT_MS)))]);
  clearTimeout(timer);
  let lines: string[];
  try {
    lines = readFileSync(c.logFile, "utf8").split("\n");
  } catch {
    return undefined; // no log to quote: the message still names the file
  }
  for (const line of lines.reverse()) {
    const failure = failureIn(line);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

/** How long a child may take to stop after SIGTERM (a server writes its checkpoint) before SIGKILL. */
export const STOP_GRACE_MS = 10_000;

function isRunning(c: Child): boolean {
  return c.process.exitCode === null && c.process.signalCode === null;
}

/**
 * SIGTERM to every live child, SIGKILL after `graceMs` to those still running (a process stuck on a
 * NATS that is gone, or not scheduled at all), each told to `onKill` first; resolves when all exited.
 */
export async function stopChildren(
  children: readonly Child[],
  graceMs = STOP_GRACE_MS,
  onKill: (c: Child) => void = () => undefined,
): Promise<ChildExit[]> {
  for (const c of children) if (isRunning(c)) c.process.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const c of children.filter(isRunning)) {
      onKill(c);
      c.process.kill("SIGKILL");
    }
  }, graceMs);
  try {
    return await Promise.all(children.map((c) => c.exited));
  } finally {
    clearTimeout(timer);
  }
}
