// One `sfprompt run` per run directory at a time: two runs on one folder would start two
// nats-servers on one JetStream store (corrupting it) and overwrite each other's metrics.json.
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
// the subpaths, not @sfprompt/core's index: taking the lock loads no onnxruntime (ADR 0016 amendment 26)
import {
  LockReadError,
  lockLines,
  lockValue,
  pidOf,
  releaseLock,
  takeLock,
  type LockHolder,
} from "@sfprompt/core/pid-lock";
import { isSameProcess, pidExists, pidNamespace, processStart } from "@sfprompt/core/process-start";
import { makeDirs, removeEmptyMadeDirs } from "../make-dirs.js";
import { RunDirError } from "./errors.js";

/**
 * The lock file (@sfprompt/core's pid-lock: taken by exclusive create, a dead run's taken over
 * through `.taking-N` successor files): the pid of the run holding the folder, `started <when>` and
 * `pidns <namespace>` where the system tells them, then `nats PID` and `nats-started <when>` once
 * its nats-server runs. Not a RUN_FILES entry: --fresh keeps it.
 */
export const LOCK_FILE = ".sfprompt-run.lock";

/** `started <when>` for the lock of `pid`, or nothing where the system cannot tell when it started. */
function startedLine(key: string, pid: number): string {
  const start = processStart(pid);
  return start === undefined ? "" : `${key} ${start}\n`;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Stops the nats-server a killed run left behind (a SIGKILLed process runs no exit hook): it still
 * holds the run's JetStream store, and a second server on that store corrupts it. Only the process
 * that started when the lock says, and is a nats-server (Linux: /proc/PID/cmdline), is stopped: its
 * pid may have been reused since, by anything, another run's nats-server too.
 */
function stopLeftNatsServer(path: string): void {
  const lines = lockLines(path);
  const pid = pidOf(lockValue(lines, "nats"));
  // a pid noted in another pid namespace (a container sharing the folder) names another process here
  const ns = lockValue(lines, "pidns");
  if (ns !== undefined && ns !== pidNamespace()) return;
  if (pid === undefined || !isSameProcess(pid, lockValue(lines, "nats-started"))) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone, or no /proc here
  }
  if (!cmdline.includes("nats-server")) return;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; waited < 5000 && pidExists(pid); waited += 50) sleepSync(50);
  if (pidExists(pid)) process.kill(pid, "SIGKILL");
}

/** Notes the run's nats-server in its lock, so that a run after a SIGKILL can stop it. */
export function recordNatsServer(dir: string, pid: number): void {
  appendFileSync(join(dir, LOCK_FILE), `nats ${pid}\n${startedLine("nats-started", pid)}`);
}

/** How often the run folder is made again when it is removed before its lock is taken (see lockRunDir). */
const TAKE_ATTEMPTS = 50;

/** Makes `dir` and the folders above it that are missing: those it made, outermost first. */
function createDir(dir: string): string[] {
  const choose = "choose another folder with --out DIR (or spec.output.path)";
  let made: string[];
  try {
    made = makeDirs(dir);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    const what = code === "EEXIST" ? "exists and is not a folder" : `cannot be created (${code})`;
    throw new RunDirError(dir, `${what}; ${choose}`, { cause });
  }
  let isFolder: boolean;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch (cause) {
    // removed since it was found or made: the lock's ENOENT makes it again (lockRunDir)
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return made;
    throw new RunDirError(
      dir,
      `cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); ${choose}`,
      { cause },
    );
  }
  if (!isFolder) throw new RunDirError(dir, `exists and is not a folder; ${choose}`);
  return made;
}

/**
 * The lock (or a `.taking-N` file of its chain) is there but cannot be read: another user's run
 * wrote it with umask 077, and may still run (ADR 0016 amendment 27).
 */
function unreadableLock(cause: LockReadError): string {
  const choose = "or choose another folder with --out DIR (or spec.output.path)";
  const code = cause.code ?? String(cause.cause);
  if (code !== "EACCES" && code !== "EPERM")
    return `its lock ${cause.path} cannot be read (${code}); ${choose}`;
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const who = uid === undefined || gid === undefined ? "" : `uid ${uid}, gid ${gid}; `;
  return (
    `its lock ${cause.path} cannot be read by this process's user (${who}${code}): make it readable ` +
    `(chmod a+r ${cause.path}), or remove it if no sfprompt run uses the folder; ${choose}`
  );
}

/**
 * Creates `dir` if needed and locks it for this process; throws RunDirError when another live run
 * holds it. Returns the release function (also run at process exit, e.g. after an uncaught error),
 * which removes the folder again when this run created it and left nothing in it, and then each
 * folder above it that this run made, while empty (one that another process filled since stays).
 */
export function lockRunDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const madeSet = new Set<string>();
  let holder: LockHolder | undefined;
  for (let attempt = 1; ; attempt++) {
    for (const d of createDir(dir)) madeSet.add(d);
    try {
      // a killed run's nats-server still holds the JetStream store: stopped before its lock is taken
      holder = takeLock(path, { beforeTakeOver: stopLeftNatsServer });
      break;
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      // the folder was removed after it was found there: a run on it released it and removed it, as
      // it had made it; made again (by this run now)
      if (code === "ENOENT" && attempt < TAKE_ATTEMPTS) continue;
      if (cause instanceof LockReadError) throw new RunDirError(dir, unreadableLock(cause), { cause });
      throw new RunDirError(
        dir,
        `cannot be written (${code ?? String(cause)}); choose a writable folder with --out DIR (or spec.output.path)`,
        { cause },
      );
    }
  }
  // outermost first, as makeDirs returns them
  const made = [...madeSet].sort((a, b) => a.length - b.length);
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
    // while held, with the files a taker killed meanwhile left, which would keep the folder
    releaseLock(path);
    // only empty folders go: one the run wrote in, or another process filled, stays
    removeEmptyMadeDirs(made);
  };
  process.once("exit", release);
  return release;
}
