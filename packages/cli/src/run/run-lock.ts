// One `sfprompt run` per run directory at a time: two runs on one folder would start two
// nats-servers on one JetStream store (corrupting it) and overwrite each other's metrics.json.
import {
  appendFileSync,
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
import { isSameProcess, pidExists, processStart } from "@sfprompt/core";
import { makeDirs, removeEmptyMadeDirs } from "../make-dirs.js";
import { RunDirError } from "./errors.js";

/**
 * The lock file: the pid of the run holding the folder, `started <when>` where the system tells
 * when it started (processStart, @sfprompt/core), then `nats PID` and `nats-started <when>` once
 * its nats-server runs. Not a RUN_FILES entry: --fresh keeps it.
 */
export const LOCK_FILE = ".sfprompt-run.lock";

/** The lock's lines (see LOCK_FILE). */
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

/** The value of the lock's `KEY VALUE` line, if it has one. */
function valueOf(lines: readonly string[], key: string): string | undefined {
  const line = lines.find((l) => l.startsWith(`${key} `));
  return line?.slice(key.length + 1).trim();
}

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
  const pid = pidOf(valueOf(lines, "nats"));
  if (pid === undefined || !isSameProcess(pid, valueOf(lines, "nats-started"))) return;
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
  if (!statSync(dir).isDirectory()) throw new RunDirError(dir, `exists and is not a folder; ${choose}`);
  return made;
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

/** Creates `path` exclusively with this process's pid (and start) in it: false when it exists. */
function createExclusive(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, `${process.pid}\n${startedLine("started", process.pid)}`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A file of the lock's chain: gone, held by a live run (no pid: being written), or left by a dead one. */
type Link = { readonly state: "gone" | "dead" } | { readonly state: "held"; readonly holder: Holder };

function linkAt(path: string): Link {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { state: "gone" }; // released or taken over since, or not made yet
  }
  const lines = text.split("\n");
  const pid = pidOf(lines[0]?.trim());
  // a pid that now names another process (the system reused it) is a dead holder's
  if (pid !== undefined && isSameProcess(pid, valueOf(lines, "started")))
    return { state: "held", holder: { pid } };
  // a run that started together is between its exclusive create and its pid write
  if (text === "" && isBeingWritten(path)) return { state: "held", holder: {} };
  return { state: "dead" };
}

/**
 * The lock's chain (ADR 0016 amendments 4 and 7): the lock file, then for each dead holder its
 * successor file (`<lock>.taking-<n>`, n = 1, 2, …: one name per place, however many takers died),
 * which the run taking over from it creates exclusively. Either a live holder (and the file it
 * holds), or every holder dead and the successor file to create next, or the lock gone.
 */
type Chain =
  | { readonly held: Holder; readonly at: string; readonly dead: readonly string[] }
  | { readonly dead: readonly string[]; readonly next: string }
  | { readonly gone: true };

function chainOf(path: string): Chain {
  const dead: string[] = [];
  // ends: each place holds a file (every one a dead taker's, made once) or the chain stops there
  for (let depth = 0; ; depth++) {
    const at = depth === 0 ? path : `${path}.taking-${depth}`;
    const link = linkAt(at);
    if (link.state === "gone") return depth === 0 ? { gone: true } : { dead, next: at };
    if (link.state === "held") return { held: link.holder, at, dead };
    dead.push(at);
  }
}

/**
 * Removes the files that dead runs left beside the lock `path` (`<lock>.…`: successor files of
 * takers killed before their rename, or of takers that found the lock held and were killed before
 * removing theirs; also an older sfprompt's, named by pid), while this run holds the lock: a dead
 * holder's file never comes alive again, and a live taker's (or one being written) stays.
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
  for (const name of names)
    if (name.startsWith(prefix) && linkAt(join(dir, name)).state === "dead")
      rmSync(join(dir, name), { force: true });
}

/**
 * Having created `mine`, the successor of the chain's last dead holder: takes the lock when the
 * chain still ends in it. Only the creator of that one file can get here for a chain of dead
 * holders, and nobody else changes such a chain, so the check holds until the rename.
 */
function takeOver(path: string, mine: string): boolean {
  const chain = chainOf(path);
  if (!("held" in chain) || chain.at !== mine || chain.held.pid !== process.pid) {
    // the chain moved on before our successor file was made (another run took over): not ours
    if (holderOf(mine) === process.pid) rmSync(mine, { force: true });
    return false;
  }
  stopLeftNatsServer(path);
  renameSync(mine, path);
  return true;
}

/** Creates the lock file exclusively, or returns the live run that holds it. */
function tryLock(path: string): Holder | undefined {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path)) return undefined;
    const chain = chainOf(path);
    if ("gone" in chain) continue; // released since: take it
    if ("held" in chain) return chain.held;
    // every holder in the chain was killed: the one run that creates the next successor takes over
    if (createExclusive(chain.next) && takeOver(path, chain.next)) {
      removeDeadTakers(path); // the chain's dead takers, and any other dead run's file
      return undefined;
    }
  }
  const chain = chainOf(path);
  return "held" in chain ? chain.held : {};
}

/**
 * Creates `dir` if needed and locks it for this process; throws RunDirError when another live run
 * holds it. Returns the release function (also run at process exit, e.g. after an uncaught error),
 * which removes the folder again when this run created it and left nothing in it, and then each
 * folder above it that this run made, while empty (one that another process filled since stays).
 */
export function lockRunDir(dir: string): () => void {
  const made = createDir(dir);
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
    if (holderOf(path) === process.pid) {
      // while held: a taker killed meanwhile left its file, which would keep the folder
      removeDeadTakers(path);
      rmSync(path, { force: true });
    }
    // only empty folders go: one the run wrote in, or another process filled, stays
    removeEmptyMadeDirs(made);
  };
  process.once("exit", release);
  return release;
}
