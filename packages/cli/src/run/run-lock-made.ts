// The folders a run made for its run folder (it and new folders above it), which its release
// removes while empty: those left to the run holding the lock by runs that found it held, and those
// left at release to the runs holding folders below them (ADR 0016 amendment 32).
import { closeSync, constants, existsSync, openSync, readdirSync, writeSync, type Dirent } from "node:fs";
import { join, resolve, sep } from "node:path";
// the subpath, not @sfprompt/core's index: taking the lock loads no onnxruntime (ADR 0016 amendment 26)
import { lockLines, pidOf, type LockHolder } from "@sfprompt/core/pid-lock";
import { removeEmptyMadeDirs } from "../make-dirs.js";
import { LOCK_FILE, MADE_KEY } from "./run-lock-format.js";

/**
 * Leaves the folders this run made to the run holding the lock (`holder`, its pid read from `path`):
 * appended to its lock, never creating it (a lock released meanwhile stays gone, and the folders then
 * stay, as before). A holder still taking over a dead run's lock holds another file: nothing is left.
 */
export function leaveToHolder(path: string, holder: LockHolder, made: readonly string[]): void {
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
export function leaveToSiblings(made: readonly string[], dir: string): void {
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
export function leftToMe(path: string, dir: string): string[] {
  const own = resolve(dir);
  return lockLines(path)
    .filter((l) => l.startsWith(`${MADE_KEY} `))
    .map((l) => l.slice(MADE_KEY.length + 1))
    .filter((d) => d === own || own.startsWith(d.endsWith(sep) ? d : `${d}${sep}`));
}
