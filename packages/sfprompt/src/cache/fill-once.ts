// Fill-once cache folders shared by processes that start together (server and clients: the demo
// model, MiniLM): a lock file taken by exclusive create, the result written under a temporary name
// and renamed into place when complete.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { shellQuote } from "@sfprompt/api";
import { writeProbe } from "../runtime/write-probe.js";
import { LockReadError, releaseLock, takeLock } from "../runtime/pid-lock.js";
import { permissionError, unwritableDetail } from "../runtime/unreadable-path.js";

/** The cache's folder cannot be created or used: names it and how to choose another. */
export class CacheDirError extends Error {
  override readonly name = "CacheDirError";
  constructor(
    readonly path: string,
    /** What is wrong with the folder, without the advice (whose setting differs in the images). */
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `cache folder ${path}: ${detail}; set SFPROMPT_CACHE (sfprompt demo-model: --cache DIR) to a folder this user can write`,
      options,
    );
  }
}

/**
 * Why a folder or file could not be made in `folder`: " (CODE)", or for a permission error ": <folder>
 * cannot be written by this process's user (uid, gid; EACCES): make it writable …" (the fix is the
 * folder's owner or mode, which the code alone did not say).
 */
function why(cause: unknown, folder: string): string {
  const unwritable = unwritableDetail(folder, cause);
  if (unwritable !== undefined) return `: ${unwritable}`;
  return ` (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`;
}

/** The path a system error names, else `fallback`. */
function failedPath(cause: unknown, fallback: string): string {
  return (cause as NodeJS.ErrnoException).path ?? fallback;
}

/** makeDirs's error: `dir` could not be made, mkdir having failed in `folder` with `cause`. */
function notMade(dir: string, folder: string, cause: unknown): CacheDirError {
  return new CacheDirError(dir, `cannot be created${why(cause, folder)}`, { cause });
}

/** tryLock's error for a lock that could not be created. */
function lockNotMade(lock: string, cause: unknown): CacheDirError {
  return new CacheDirError(dirname(lock), `its lock ${lock} cannot be created${why(cause, dirname(lock))}`, {
    cause,
  });
}

/**
 * What fillOnce would stop with before it fills `dir` (the folders above it cannot be made, or its
 * lock cannot be created beside it), found without writing anything, or undefined: for the checks
 * before a start (sfprompt validate, sfprompt run) of a cache not filled yet, which the run met only
 * after it had started. The same errors as makeDirs and tryLock: the first folder there must be one
 * this user can write in and search (W_OK | X_OK, as mkdir and an exclusive create need).
 */
export function fillProblem(dir: string): CacheDirError | undefined {
  const parent = dirname(dir);
  // the folder makeDirs would make the first missing one in
  const probe = writeProbe(parent);
  if (probe === undefined) return undefined;
  if (probe.kind === "not-a-folder") {
    if (probe.self) return new CacheDirError(parent, "exists and is not a folder");
    const cause = Object.assign(new Error(`ENOTDIR: not a directory, mkdir under '${probe.there}'`), {
      code: "ENOTDIR",
    });
    return notMade(parent, probe.there, cause);
  }
  return probe.self ? lockNotMade(`${dir}.lock`, probe.cause) : notMade(parent, probe.there, probe.cause);
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync loops forever (and handles no signal)
 * where mkdir answers ENOENT under a parent that exists, as in /proc. A level that another process
 * made first (the run's processes start together) is no error.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  try {
    for (const d of missing) mkdirIfMissing(d);
  } catch (cause) {
    throw notMade(dir, dirname(failedPath(cause, dir)), cause);
  }
  if (!statSync(dir).isDirectory()) throw new CacheDirError(dir, "exists and is not a folder");
}

/** mkdir, unless the folder is there by now (made since this process looked); a file there stays EEXIST. */
function mkdirIfMissing(d: string): void {
  try {
    mkdirSync(d);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !statSync(d).isDirectory()) throw error;
  }
}

/**
 * Takes the lock; false when another live process (or call) holds it. The lock says the filler's
 * pid, start and pid namespace (ADR 0027 amendment 3); a crashed filler's is taken over by exactly
 * one of the processes that find it so, through @sfprompt/core's pid-lock chain of `<lock>.taking-N`
 * files (amendment 4), as `sfprompt run`'s run folder lock is.
 */
function tryLock(lock: string, dir: string): boolean {
  try {
    return takeLock(lock) === undefined;
  } catch (cause) {
    if (!(cause instanceof LockReadError)) throw lockNotMade(lock, cause);
    const detail = `its lock ${cause.path} cannot be read${whyUnreadable(cause, dir)}`;
    throw new CacheDirError(dirname(lock), detail, { cause });
  }
}

/**
 * Why the lock (a file of its chain) that is there could not be read: " (CODE)", or for a permission
 * error " by this process's user (uid, gid; EACCES): make it readable …, or remove it …" (another
 * user's filler wrote it with a umask that keeps others out; it may still be filling `dir`).
 */
function whyUnreadable(cause: LockReadError, dir: string): string {
  if (permissionError(cause) === undefined) return ` (${cause.code ?? String(cause.cause)})`;
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const who = uid === undefined || gid === undefined ? "" : `uid ${uid}, gid ${gid}; `;
  return (
    ` by this process's user (${who}${cause.code}): make it readable (chmod a+r ${shellQuote(cause.path)}), ` +
    `or, if no process is filling ${dir} now, remove it (rm -f ${shellQuote(cause.path)}, as its owner or root)`
  );
}

export interface FillOnceRequest<T> {
  /** The final folder. */
  readonly dir: string;
  /** The cached result when `dir` is complete, else undefined. */
  readonly read: () => T | undefined;
  /** Fills `tmp` (an empty folder) and returns the result as it will read from `dir`. */
  readonly fill: (tmp: string) => Promise<T>;
  /** Moves the filled `tmp` into `dir` (default: rename the folder, which must not exist yet). */
  readonly install?: (tmp: string, dir: string) => void;
  readonly signal?: AbortSignal;
}

/** The cached result, or fills the folder once (other callers wait for it). */
export async function fillOnce<T>(req: FillOnceRequest<T>): Promise<T> {
  const { dir } = req;
  makeDirs(dirname(dir));
  const lock = `${dir}.lock`;
  for (;;) {
    const cached = req.read();
    if (cached !== undefined) return cached;
    if (tryLock(lock, dir)) break;
    req.signal?.throwIfAborted();
    await sleep(500); // another process (or call) is filling it: wait for its result
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    const cached = req.read();
    if (cached !== undefined) return cached;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const result = await req.fill(tmp);
    (req.install ?? renameSync)(tmp, dir);
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    releaseLock(lock);
  }
}
