// Child processes of the test control plane and their cleanup: every process and temp folder is
// registered so that a failed or interrupted test run still kills etcd and the API server.
import { spawn, type ChildProcess } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pidExists } from "@sfprompt/core/process-start";
import { ControlPlaneStartError } from "./errors.js";

export interface ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** True while the process runs. */
  running(): boolean;
  /** The last lines of the process's combined stdout/stderr. */
  logTail(lines?: number): string;
  /** SIGKILLs the process (the control plane is disposable) and waits for it to exit. */
  kill(): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

function cleanupSync(): void {
  for (const child of liveChildren) child.kill("SIGKILL");
  liveChildren.clear();
  if (process.env.SFPROMPT_KEEP_KUBE_TMP === "1") return;
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Only when nobody else handles the signal: then it means "terminate", so clean up and re-raise it.
// Another handler owns the shutdown; the exit hook (and the parent-death signal) still clean up.
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) !== 1) return;
  cleanupSync();
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", cleanupSync);
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
}

/** Registers a folder to delete at stop or process exit (kept when SFPROMPT_KEEP_KUBE_TMP=1). */
export function registerTempDir(dir: string): void {
  installHooks();
  tempDirs.add(dir);
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
}

/** Deletes `<parent>/<prefix>*` folders whose owning process is gone (it was SIGKILLed). */
export function sweepStaleTempDirs(parent: string, prefix: string): void {
  if (process.env.SFPROMPT_KEEP_KUBE_TMP === "1") return;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    let pid: number;
    try {
      pid = Number(readFileSync(join(parent, name, "owner.pid"), "utf8"));
    } catch {
      continue; // being created, or not ours
    }
    if (pid > 0 && !pidExists(pid)) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

/** Deletes a registered folder now. */
export function removeTempDir(dir: string): void {
  tempDirs.delete(dir);
  if (process.env.SFPROMPT_KEEP_KUBE_TMP !== "1") rmSync(dir, { recursive: true, force: true });
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n").trim();
  } catch {
    return "";
  }
}

const setpriv = "/usr/bin/setpriv";
let hasSetpriv: boolean | undefined;

// Even SIGKILL of the test process must not leave etcd and kube-apiserver running: util-linux's
// setpriv sets the parent-death signal and then execs the binary (same pid), so the kernel kills it.
function command(bin: string, args: string[]): [string, string[]] {
  if (hasSetpriv === undefined) {
    try {
      accessSync(setpriv, constants.X_OK);
      hasSetpriv = true;
    } catch {
      hasSetpriv = false;
    }
  }
  return hasSetpriv ? [setpriv, ["--pdeathsig", "KILL", "--", bin, ...args]] : [bin, args];
}

/** Starts `bin args` with its output in `logPath`; it does not keep the event loop alive. */
export function startProcess(name: string, bin: string, args: string[], logPath: string): ManagedProcess {
  installHooks();
  const fd = openSync(logPath, "a");
  const child = spawn(...command(bin, args), { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  liveChildren.add(child);
  let alive = true;
  const exited = new Promise<number | string>((resolve) => {
    const done = (v: number | string): void => {
      alive = false;
      liveChildren.delete(child);
      resolve(v);
    };
    child.once("exit", (code, signal) => done(code ?? signal ?? "unknown"));
    child.once("error", (err) => done(`spawn error: ${err.message}`));
  });
  child.unref();
  return {
    name,
    logPath,
    exited,
    running: () => alive,
    logTail: (lines = 30) => tail(logPath, lines),
    kill: async () => {
      // Keep the event loop alive until the exit is seen; otherwise `await exited` never settles.
      child.ref();
      if (alive) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** A ControlPlaneStartError for `proc` carrying the tail of its log. */
export function startError(proc: ManagedProcess, message: string, cause?: unknown): ControlPlaneStartError {
  return new ControlPlaneStartError(proc.name, message, proc.logTail(), cause ? { cause } : undefined);
}
