// One `sfprompt run` per run directory at a time: two runs on one folder would start two
// nats-servers on one JetStream store (corrupting it) and overwrite each other's metrics.json. Taking
// and releasing the lock, and refusing a folder it holds; its text is run-lock-format.ts's, the folders
// a run made run-lock-made.ts's, the nats-server it notes run-lock-nats.ts's.
import { appendFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "@sfprompt/api";
// the subpaths, not @sfprompt/core's index: taking the lock loads no onnxruntime (ADR 0016 amendment 26)
import {
  holdsLock,
  lockHolder,
  LockReadError,
  lockLines,
  releaseLock,
  takeLock,
  type LockHolder,
} from "@sfprompt/core/pid-lock";
import { makeDirs, removeEmptyMadeDirs } from "../make-dirs.js";
import { RunDirError } from "./errors.js";
import {
  CHOOSE_ANOTHER_RUN_DIR,
  runDirNotCreated,
  runDirNotRead,
  runDirNotWritable,
} from "./run-dir-writable.js";
import { isRunLockText, LOCK_FILE, TOOK_OVER_KEY } from "./run-lock-format.js";
import { leaveToHolder, leaveToSiblings, leftToMe } from "./run-lock-made.js";
import { stopLeftNatsServer } from "./run-lock-nats.js";

export { LOCK_FILE, lockShowsEarlierRun } from "./run-lock-format.js";
export { recordNatsServer } from "./run-lock-nats.js";

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
  // the pid of the killed run whose lock this run takes over, when that lock is a run's
  let killed: string | undefined;
  const beforeTakeOver = (p: string): void => {
    const lines = lockLines(p);
    // a lock file of another's (or one a taker never wrote) shows no run: no took-over line
    if (isRunLockText(lines)) killed = lines[0]?.trim();
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
  if (killed !== undefined) appendFileSync(path, `${TOOK_OVER_KEY} ${killed}\n`);
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
