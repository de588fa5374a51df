// A lock file held by a live process: `sfprompt run`'s run folder (packages/cli run-lock.ts) and a
// cache folder's filler (cache/fill-once.ts). Taken by exclusive create; a lock whose holder is gone
// (a crash, SIGKILL, a reboot) is taken over through a chain of successor files, so that exactly one
// of any number of processes that find it dead at once takes it (ADR 0016 amendments 4 and 7, ADR
// 0027 amendment 4). Also the subpath @sfprompt/core/pid-lock, for callers that take a lock without
// loading the whole package (onnxruntime): `sfprompt run`'s run lock (ADR 0016 amendment 26).
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { isSameProcess, pidNamespace, processStart } from "./process-start.js";

/** The value of a lock's `KEY VALUE` line, if it has one. */
export function lockValue(lines: readonly string[], key: string): string | undefined {
  const line = lines.find((l) => l.startsWith(`${key} `));
  return line?.slice(key.length + 1).trim();
}

/** A positive integer pid, or undefined. */
export function pidOf(text: string | undefined): number | undefined {
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The start to compare a lock's `pid` with (its `KEY` line, e.g. `started`), or undefined for the
 * pid alone: only a lock written in this process's pid namespace says when this namespace's process
 * at that pid started. Another container's pid (often 1 there) names some other process here, and a
 * lock without `pidns` (an older sfprompt's) may have been written anywhere.
 */
export function comparableStart(lines: readonly string[], key: string): string | undefined {
  const ns = lockValue(lines, "pidns");
  return ns !== undefined && ns === pidNamespace() ? lockValue(lines, key) : undefined;
}

/**
 * This process's lock text: its pid on the first line, then where the system tells them
 * `started <boot id> <start ticks>` and `pidns <namespace>`.
 */
export function ownLockText(): string {
  const start = processStart(process.pid);
  const ns = pidNamespace();
  const lines = [String(process.pid)];
  if (start !== undefined) lines.push(`started ${start}`);
  if (ns !== undefined) lines.push(`pidns ${ns}`);
  return `${lines.join("\n")}\n`;
}

/**
 * A lock file (or a successor file of its chain) that is there but cannot be read, e.g. another
 * user's with mode 0600: thrown by takeLock, its `code` and `path` the read's, so that a caller can
 * say "cannot be read" rather than blame the folder for what it could not create.
 */
export class LockReadError extends Error {
  override readonly name = "LockReadError";
  readonly code: string | undefined;
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(`lock file ${path} cannot be read (${code ?? String(cause)})`, { cause });
    this.code = code;
  }
}

/** The lock's lines; none when it is gone (released or taken over since, or not made yet). */
function readLines(path: string): string[] | undefined {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new LockReadError(path, error);
  }
}

/** The lock's lines, none where it is gone or cannot be read. */
export function lockLines(path: string): string[] {
  try {
    return readLines(path) ?? [];
  } catch {
    return [];
  }
}

/** Whether this process holds the lock `path` (its own text starts it: pid, start and namespace). */
export function holdsLock(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return false;
  }
  return text.startsWith(ownLockText());
}

/**
 * Whether a lock naming this process's pid was written by an earlier process that had the pid: not
 * this process's own text, and written in this pid namespace or in one it does not name (an older
 * sfprompt's lock, with neither start nor namespace). One that names another namespace is another
 * container's process, whose pid may well be this one's (pid 1 in both).
 */
function isOwnPidReused(lines: readonly string[]): boolean {
  if (lines.join("\n").startsWith(ownLockText())) return false;
  const ns = lockValue(lines, "pidns");
  return ns === undefined || ns === pidNamespace();
}

/** A lock with no pid yet is one its taker is writing; this old, its taker died before it wrote. */
export const UNWRITTEN_LOCK_MS = 10_000;

/** Another process's hold on the lock: its pid, or none yet (it is writing its lock right now). */
export type LockHolder = { readonly pid: number } | { readonly pid?: undefined };

/** Whether the lock (created, nothing written in it) is still younger than UNWRITTEN_LOCK_MS. */
function isBeingWritten(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs <= UNWRITTEN_LOCK_MS;
  } catch {
    return false; // removed since: take it
  }
}

/** Creates `path` exclusively with this process's lock text in it (one write): false when it exists. */
function createExclusive(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, ownLockText());
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A file of the lock's chain: gone, held by a live process (no pid: being written), or left by a dead one. */
type Link = { readonly state: "gone" | "dead" } | { readonly state: "held"; readonly holder: LockHolder };

function linkAt(path: string): Link {
  const lines = readLines(path);
  if (lines === undefined) return { state: "gone" };
  const pid = pidOf(lines[0]?.trim());
  // a pid that now names another process (the system reused it) is a dead holder's; so is this
  // process's own pid in a lock it did not write (an older lock without a start, its pid reused by
  // this very process): no live other holder, and waiting on it would be waiting on itself
  if (pid !== undefined && isSameProcess(pid, comparableStart(lines, "started"))) {
    if (pid === process.pid && isOwnPidReused(lines)) return { state: "dead" };
    return { state: "held", holder: { pid } };
  }
  // a process that started together is between its exclusive create and its write
  if (lines.join("\n") === "" && isBeingWritten(path)) return { state: "held", holder: {} };
  return { state: "dead" };
}

/**
 * The lock's chain (ADR 0016 amendments 4 and 7): the lock file, then for each dead holder its
 * successor file (`<lock>.taking-<n>`, n = 1, 2, …: one name per place, however many takers died),
 * which the process taking over from it creates exclusively. Either a live holder (and the file it
 * holds), or every holder dead and the successor file to create next, or the lock gone.
 */
type Chain =
  { readonly held: LockHolder; readonly at: string } | { readonly next: string } | { readonly gone: true };

function chainOf(path: string): Chain {
  // ends: each place holds a file (every one a dead taker's, made once) or the chain stops there
  for (let depth = 0; ; depth++) {
    const at = depth === 0 ? path : `${path}.taking-${depth}`;
    const link = linkAt(at);
    if (link.state === "gone") return depth === 0 ? { gone: true } : { next: at };
    if (link.state === "held") return { held: link.holder, at };
  }
}

/**
 * Removes the files that dead processes left beside the lock `path` (`<lock>.…`: successor files of
 * takers killed before their rename, or of takers that found the lock held and were killed before
 * removing theirs; also an older sfprompt run's, named by pid), while this process holds the lock: a
 * dead holder's file never comes alive again, and a live taker's (or one being written) stays.
 */
function removeDeadTakers(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // the folder is gone: nothing left in it
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    let dead: boolean;
    try {
      dead = linkAt(join(dir, name)).state === "dead";
    } catch {
      continue; // unreadable: not ours to judge
    }
    if (dead) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Having created `mine`, the successor of the chain's last dead holder: takes the lock when the
 * chain still ends in it. Only the creator of that one file can get here for a chain of dead
 * holders, and nobody else changes such a chain, so the check holds until the rename.
 */
function takeOver(path: string, mine: string, beforeTakeOver: ((path: string) => void) | undefined): boolean {
  const chain = chainOf(path);
  if (!("held" in chain) || chain.at !== mine || chain.held.pid !== process.pid) {
    // the chain moved on before our successor file was made (another process took over): not ours
    if (holdsLock(mine)) rmSync(mine, { force: true });
    return false;
  }
  beforeTakeOver?.(path);
  renameSync(mine, path);
  return true;
}

export interface TakeLockOptions {
  /** Runs once this process is the one to take over a dead holder's lock, before it does (the lock still as the dead holder left it). */
  readonly beforeTakeOver?: (path: string) => void;
}

/**
 * Takes the lock `path` for this process (exclusive create, or the takeover of a dead holder's):
 * undefined when taken, else the live process that holds it (a pid, or none while its taker writes
 * it). Errors other than the lock's existence (a folder that cannot be written) are thrown.
 */
export function takeLock(path: string, options: TakeLockOptions = {}): LockHolder | undefined {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path)) return undefined;
    const chain = chainOf(path);
    if ("gone" in chain) continue; // released since: take it
    if ("held" in chain) return chain.held;
    // every holder in the chain is dead: the one process that creates the next successor takes over
    if (createExclusive(chain.next) && takeOver(path, chain.next, options.beforeTakeOver)) {
      removeDeadTakers(path); // the chain's dead takers, and any other dead process's file
      return undefined;
    }
  }
  const chain = chainOf(path);
  return "held" in chain ? chain.held : {};
}

/**
 * The live process holding the lock `path` (a pid, or none while its taker writes it), looked at and
 * not taken: undefined when it is free (no lock, or every holder in its chain dead, which a taker
 * would take over). A lock that cannot be read is a LockReadError, as for takeLock.
 */
export function lockHolder(path: string): LockHolder | undefined {
  const chain = chainOf(path);
  return "held" in chain ? chain.held : undefined;
}

/** Releases the lock `path` when this process holds it, with the files dead takers left beside it. */
export function releaseLock(path: string): void {
  if (!holdsLock(path)) return;
  // while held: a taker killed meanwhile left its file
  removeDeadTakers(path);
  rmSync(path, { force: true });
}
