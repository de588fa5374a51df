// One `sfprompt run` per run directory at a time: two runs on one folder would start two
// nats-servers on one JetStream store (corrupting it) and overwrite each other's metrics.json.
import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
  type Dirent,
} from "node:fs";
import { join, resolve, sep } from "node:path";
import { shellQuote } from "@sfprompt/api";
// the subpaths, not @sfprompt/core's index: taking the lock loads no onnxruntime (ADR 0016 amendment 26)
import {
  holdsLock,
  lockHolder,
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
import {
  CHOOSE_ANOTHER_RUN_DIR,
  runDirNotCreated,
  runDirNotRead,
  runDirNotWritable,
} from "./run-dir-writable.js";

/**
 * The lock file (@sfprompt/core's pid-lock: taken by exclusive create, a dead run's taken over
 * through `.taking-N` successor files): the pid of the run holding the folder, `started <when>` and
 * `pidns <namespace>` where the system tells them, `took-over PID` when it took over a killed run's
 * lock, then `nats PID` and `nats-started <when>` once its nats-server runs. Not a RUN_FILES entry:
 * --fresh keeps it.
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

/**
 * The lock's `made DIR` lines: folders a run that started together made for this run folder (it and
 * new folders above it) before it found the lock held, left to the holder to remove at its release
 * while empty (ADR 0016 amendment 32).
 */
const MADE_KEY = "made";

/**
 * Leaves the folders this run made to the run holding the lock (`holder`, its pid read from `path`):
 * appended to its lock, never creating it (a lock released meanwhile stays gone, and the folders then
 * stay, as before). A holder still taking over a dead run's lock holds another file: nothing is left.
 */
function leaveToHolder(path: string, holder: LockHolder, made: readonly string[]): void {
  const lines = made.filter((d) => !d.includes("\n")).map((d) => `${MADE_KEY} ${d}\n`);
  if (holder.pid === undefined || lines.length === 0) return;
  if (pidOf(lockLines(path)[0]?.trim()) !== holder.pid) return;
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND);
  } catch {
    return; // released since
  }
  try {
    writeSync(fd, lines.join(""));
  } catch {
    // the folders stay, as before
  } finally {
    closeSync(fd);
  }
}

/** How deep, and through how many folders, a release looks for sibling runs' locks (leaveToSiblings). */
const SIBLING_DEPTH = 4;
const SIBLING_FOLDERS = 200;

/**
 * The locks of runs holding folders below `top` (a folder this run made, which they keep from being
 * empty), looked for SIBLING_DEPTH levels down through at most SIBLING_FOLDERS folders; a run folder
 * is not looked into.
 */
function locksBelow(top: string): string[] {
  const locks: string[] = [];
  let level = [top];
  let seen = 0;
  for (let depth = 0; depth < SIBLING_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const d of level) {
      if (++seen > SIBLING_FOLDERS) return locks;
      let entries: Dirent[];
      try {
        entries = readdirSync(d, { withFileTypes: true });
      } catch {
        continue;
      }
      if (d !== top && entries.some((e) => e.name === LOCK_FILE)) locks.push(join(d, LOCK_FILE));
      else next.push(...entries.filter((e) => e.isDirectory()).map((e) => join(d, e.name)));
    }
    level = next;
  }
  return locks;
}

/**
 * At release, the folders this run made that stay (the innermost holds another run's folder: runs
 * under one new parent, the first to end made it) are left to the runs holding folders below them,
 * whose releases remove them while empty; then tried once more, for a sibling that released
 * meanwhile (ADR 0016 amendment 32).
 */
function leaveToSiblings(made: readonly string[], dir: string): void {
  // the run's own folder stays (it wrote in it): so do the folders above it, rightly
  if (existsSync(dir)) return;
  const rest = made.filter((d) => existsSync(d));
  const inner = rest.at(-1);
  if (inner === undefined) return;
  for (const lock of locksBelow(inner)) {
    const pid = pidOf(lockLines(lock)[0]?.trim());
    if (pid !== undefined) leaveToHolder(lock, { pid }, rest);
  }
  removeEmptyMadeDirs(rest);
}

/** The folders other runs left to this one in its lock (leaveToHolder): `dir` and folders above it only. */
function leftToMe(path: string, dir: string): string[] {
  const own = resolve(dir);
  return lockLines(path)
    .filter((l) => l.startsWith(`${MADE_KEY} `))
    .map((l) => l.slice(MADE_KEY.length + 1))
    .filter((d) => d === own || own.startsWith(d.endsWith(sep) ? d : `${d}${sep}`));
}

/**
 * The lock's `took-over PID` line: this run took the folder over from the lock of a run that was
 * killed (pid PID), which shows the folder to be a run's (run-folder.ts, ADR 0016 amendment 49).
 */
const TOOK_OVER_KEY = "took-over";

/**
 * Whether the folder's lock shows that a run used it before: a lock a killed run left (looked at by
 * sfprompt validate, which takes none; checkRunDirFree refused a live holder's), or this run's own
 * lock when it took the folder over from a killed run's.
 */
export function lockShowsEarlierRun(dir: string): boolean {
  const path = join(dir, LOCK_FILE);
  const lines = lockLines(path);
  if (lines.length === 0) return false;
  return !holdsLock(path) || lockValue(lines, TOOK_OVER_KEY) !== undefined;
}

/** How often the run folder is made again when it is removed before its lock is taken (see lockRunDir). */
const TAKE_ATTEMPTS = 50;

/** Makes `dir` and the folders above it that are missing: those it made, outermost first. */
function createDir(dir: string): string[] {
  let made: string[];
  try {
    made = makeDirs(dir);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw runDirNotCreated(dir, code, cause);
  }
  let isFolder: boolean;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch (cause) {
    // removed since it was found or made: the lock's ENOENT makes it again (lockRunDir)
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return made;
    throw runDirNotRead(dir, (cause as NodeJS.ErrnoException).code ?? String(cause), cause);
  }
  if (!isFolder) throw runDirNotCreated(dir, "EEXIST");
  return made;
}

/**
 * The lock (or a `.taking-N` file of its chain) is there but cannot be read: another user's run
 * wrote it with umask 077, and may still run (ADR 0016 amendment 27).
 */
function unreadableLock(cause: LockReadError): string {
  const choose = `or ${CHOOSE_ANOTHER_RUN_DIR}`;
  const code = cause.code ?? String(cause.cause);
  if (code !== "EACCES" && code !== "EPERM")
    return `its lock ${cause.path} cannot be read (${code}); ${choose}`;
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const who = uid === undefined || gid === undefined ? "" : `uid ${uid}, gid ${gid}; `;
  return (
    `its lock ${cause.path} cannot be read by this process's user (${who}${code}): make it readable ` +
    `(chmod a+r ${shellQuote(cause.path)}), or, if no sfprompt run uses the folder, remove it ` +
    `(rm -f ${shellQuote(cause.path)}, as its owner or root); ${choose}`
  );
}

/**
 * A live holder's refusal. A holder in this pid namespace that died is taken over by itself, so the
 * lock is one to remove by hand only when its holder ran where this process cannot see (another
 * container or machine sharing the folder) and is gone: the rm names only the lock (ADR 0016
 * amendment 51).
 */
function inUseError(dir: string, path: string, holder: LockHolder): RunDirError {
  const wait = "wait for it to finish or stop it, or choose another --out DIR";
  // a lock with no pid yet is one being written: taken over by itself once UNWRITTEN_LOCK_MS old
  if (holder.pid === undefined)
    return new RunDirError(dir, `is in use by another sfprompt run (starting); ${wait}`);
  return new RunDirError(
    dir,
    `is in use by another sfprompt run (pid ${holder.pid}); ${wait}; ` +
      `if that run is gone (one of another container or machine that shares the folder, which this ` +
      `process cannot see), remove its lock: rm -f ${shellQuote(path)}`,
  );
}

/**
 * Refuses `dir` as lockRunDir would, looking at its lock without taking it (sfprompt validate): held
 * by a live run, or a lock this user cannot read. A folder that is not there, or whose lock a dead
 * run left (the next run takes it over), passes.
 */
export function checkRunDirFree(dir: string): void {
  const path = join(dir, LOCK_FILE);
  let holder: LockHolder | undefined;
  try {
    holder = lockHolder(path);
  } catch (cause) {
    if (cause instanceof LockReadError) throw new RunDirError(dir, unreadableLock(cause), { cause });
    throw cause;
  }
  if (holder !== undefined) throw inUseError(dir, path, holder);
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
  // the pid of the killed run whose lock this run takes over
  let killed: string | undefined;
  const beforeTakeOver = (p: string): void => {
    killed = lockLines(p)[0]?.trim() ?? "";
    // a killed run's nats-server still holds the JetStream store: stopped before its lock is taken
    stopLeftNatsServer(p);
  };
  for (let attempt = 1; ; attempt++) {
    for (const d of createDir(dir)) madeSet.add(d);
    try {
      holder = takeLock(path, { beforeTakeOver });
      break;
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      // the folder was removed after it was found there: a run on it released it and removed it, as
      // it had made it; made again (by this run now)
      if (code === "ENOENT" && attempt < TAKE_ATTEMPTS) continue;
      if (cause instanceof LockReadError) throw new RunDirError(dir, unreadableLock(cause), { cause });
      throw runDirNotWritable(dir, code ?? String(cause), cause);
    }
  }
  // outermost first, as makeDirs returns them
  const made = [...madeSet].sort((a, b) => a.length - b.length);
  if (holder !== undefined) {
    // they hold the holder's lock now: its release removes them while empty
    leaveToHolder(path, holder, made);
    throw inUseError(dir, path, holder);
  }
  if (killed !== undefined) appendFileSync(path, `${TOOK_OVER_KEY} ${killed.replace(/\s/g, "") || "?"}\n`);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    // read while held: folders runs that found it held made for this folder
    const left = holdsLock(path) ? leftToMe(path, dir) : [];
    // while held, with the files a taker killed meanwhile left, which would keep the folder
    releaseLock(path);
    // only empty folders go: one the run wrote in, or another process filled, stays
    const all = [...new Set([...made, ...left])].sort((a, b) => a.length - b.length);
    removeEmptyMadeDirs(all);
    leaveToSiblings(all, dir);
  };
  process.once("exit", release);
  return release;
}
