// One `sfprompt run` per run directory at a time: two runs on one folder would start two
// nats-servers on one JetStream store (corrupting it) and overwrite each other's metrics.json.
import {
  appendFileSync,
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { makeDirs } from "../make-dirs.js";
import { RunDirError } from "./errors.js";

/** The lock file: the pid of the run holding the folder. Not a RUN_FILES entry: --fresh keeps it. */
export const LOCK_FILE = ".sfprompt-run.lock";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The lock's lines: the holder's pid, then `nats PID` once its nats-server runs. */
function lockLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch {
    return []; // removed meanwhile, or not written yet
  }
}

function pidOf(text: string | undefined): number | undefined {
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function holderOf(path: string): number | undefined {
  return pidOf(lockLines(path)[0]?.trim());
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Stops the nats-server a killed run left behind (a SIGKILLed process runs no exit hook): it still
 * holds the run's JetStream store, and a second server on that store corrupts it. Only a process
 * that is a nats-server (Linux: /proc/PID/cmdline) is stopped, in case its pid was reused.
 */
function stopLeftNatsServer(path: string): void {
  const pid = pidOf(/^nats (\d+)$/.exec(lockLines(path)[1]?.trim() ?? "")?.[1]);
  if (pid === undefined) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone, or no /proc here
  }
  if (!cmdline.includes("nats-server")) return;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; waited < 5000 && isAlive(pid); waited += 50) sleepSync(50);
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
}

/** Notes the run's nats-server in its lock, so that a run after a SIGKILL can stop it. */
export function recordNatsServer(dir: string, pid: number): void {
  appendFileSync(join(dir, LOCK_FILE), `nats ${pid}\n`);
}

function createDir(dir: string): boolean {
  const choose = "choose another folder with --out DIR (or spec.output.path)";
  let created: boolean;
  try {
    created = makeDirs(dir).length > 0;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    const what = code === "EEXIST" ? "exists and is not a folder" : `cannot be created (${code})`;
    throw new RunDirError(dir, `${what}; ${choose}`, { cause });
  }
  if (!statSync(dir).isDirectory()) throw new RunDirError(dir, `exists and is not a folder; ${choose}`);
  return created;
}

/** A lock with no pid yet is one its taker is writing; this old, its taker died before it wrote. */
const UNWRITTEN_LOCK_MS = 10_000;

/** Another run's hold on the folder: its pid, or none yet (it is writing its lock right now). */
type Holder = { readonly pid: number } | { readonly pid?: undefined };

/** Whether the lock (created, nothing written in it) is still younger than UNWRITTEN_LOCK_MS. */
function isBeingWritten(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs <= UNWRITTEN_LOCK_MS;
  } catch {
    return false; // removed since: take it
  }
}

/** Creates the lock file exclusively, or returns the live run that holds it. */
function tryLock(path: string): Holder | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const lines = lockLines(path);
    if (lines.length === 0) continue; // released since: take it
    const pid = pidOf(lines[0]?.trim());
    if (pid !== undefined && isAlive(pid)) return { pid };
    // a run that started together is between its exclusive create and its pid write
    if (lines.join("") === "" && isBeingWritten(path)) return {};
    // a run that was killed left it behind
    stopLeftNatsServer(path);
    rmSync(path, { force: true });
  }
  const pid = holderOf(path);
  return pid === undefined ? {} : { pid };
}

/**
 * Creates `dir` if needed and locks it for this process; throws RunDirError when another live run
 * holds it. Returns the release function (also run at process exit, e.g. after an uncaught error),
 * which removes the folder again when this run created it and left nothing in it.
 */
export function lockRunDir(dir: string): () => void {
  const created = createDir(dir);
  const path = join(dir, LOCK_FILE);
  let holder: Holder | undefined;
  try {
    holder = tryLock(path);
  } catch (cause) {
    throw new RunDirError(
      dir,
      `cannot be written (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); choose a writable folder with --out DIR (or spec.output.path)`,
      { cause },
    );
  }
  if (holder !== undefined)
    throw new RunDirError(
      dir,
      `is in use by another sfprompt run (${holder.pid === undefined ? "starting" : `pid ${holder.pid}`}); wait for it to finish or stop it, or choose another --out DIR (if no such process runs, remove ${path})`,
    );
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    if (holderOf(path) === process.pid) rmSync(path, { force: true });
    try {
      if (created && readdirSync(dir).length === 0) rmdirSync(dir);
    } catch {
      // removed or filled meanwhile: leave it
    }
  };
  process.once("exit", release);
  return release;
}
