// Whether `sfprompt run` could make its run directory and create its lock there, told without
// writing (sfprompt validate), and the errors lockRunDir (run-lock.ts) stops with when it cannot:
// one set of words for both, the check finding them from the first folder there and this user's access.
import { accessSync, constants, statSync, type Stats } from "node:fs";
import { resolve } from "node:path";
import { shellQuote } from "@sfprompt/api";
// the subpath, not the index: run-lock.ts (which imports this) loads no onnxruntime (run-lock-imports)
import { firstFolderThere, writeProbe } from "@sfprompt/core/write-probe";
import { RunDirError } from "./errors.js";

/** What to do about a run directory that cannot be made or read (lockRunDir's errors). */
export const CHOOSE_ANOTHER_RUN_DIR = "choose another folder with --out DIR (or spec.output.path)";
const CHOOSE_WRITABLE = "choose a folder you can write with --out DIR (or spec.output.path)";

/**
 * The folder above `dir` that this user cannot search (its x bit: access X_OK), when the deepest
 * folder there that this user can look at is one: nothing below it can be reached.
 */
function unsearchableAbove(dir: string): string | undefined {
  const there = firstFolderThere(dir);
  if (there === resolve(dir)) return undefined;
  try {
    accessSync(there, constants.X_OK);
    return undefined;
  } catch {
    return there;
  }
}

/** The chmod class that gives `uid` (in `gids`) a folder's bits: its owner, its group, or others. */
function classOf(st: Stats, uid: number, gids: readonly number[]): "u" | "g" | "o" {
  if (st.uid === uid) return "u";
  return gids.includes(st.gid) ? "g" : "o";
}

/**
 * For a folder above the run directory (`there`, the deepest one this user can look at) that this
 * user cannot search: nothing below it can be reached, whoever owns it or however it is made, so the
 * fix is its x bit (ADR 0016 amendment 58): `chmod u+x` by the user who owns it, else `chmod g+x` or
 * `chmod o+x` by its owner or root. What is below it is then told by the next run (this user cannot
 * see it now).
 */
function searchFix(
  there: string,
  st: Stats | undefined,
  ids: { readonly uid: number; readonly gid: number; readonly code: string },
): string {
  const { uid, gid, code } = ids;
  const gids = [gid, ...(process.getgroups?.() ?? [])];
  const whose = st === undefined ? "" : `, owned by uid ${st.uid},`;
  const who = `${there}${whose} is a folder above it that this process's user (uid ${uid}, gid ${gid}; ${code}) cannot search`;
  const cls = st === undefined ? "o" : classOf(st, uid, gids);
  const chmod = `chmod ${cls}+x ${shellQuote(there)}`;
  const fix =
    st?.uid === uid
      ? `let yourself through it: ${chmod}`
      : `have ${st === undefined ? "its owner or root" : `uid ${st.uid} (its owner) or root`} let uid ${uid} through it: ${chmod}`;
  return `${who}; ${CHOOSE_WRITABLE}, or ${fix}`;
}

/**
 * For a permission error (EACCES, EPERM) met making `dir` (`made`) or writing in it: who may not
 * write where, and the pasted command that fixes it (ADR 0016 amendment 51): the folder's owner (uid
 * O) this user already is, `chmod u+wx` (or `chmod -R u+rwX` of the run directory); else, run by its
 * owner or root, `mkdir -p DIR && chown U:G DIR` (only the run directory is made and given, not the
 * folder above it) or `chown -R U:G DIR`. A folder above the run directory that this user cannot
 * search is searchFix's. Undefined for other codes and where uids are unknown.
 */
function permissionFix(dir: string, code: string, made: boolean): string | undefined {
  if (code !== "EACCES" && code !== "EPERM") return undefined;
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined) return undefined;
  const there = firstFolderThere(dir);
  let st: Stats | undefined;
  try {
    st = statSync(there);
  } catch {
    st = undefined;
  }
  if (unsearchableAbove(dir) !== undefined) return searchFix(there, st, { uid, gid, code });
  const owner = st?.uid;
  const whose = owner === undefined ? "" : `, owned by uid ${owner},`;
  const who = `${there}${whose} cannot be written by this process's user (uid ${uid}, gid ${gid}; ${code})`;
  const q = shellQuote(resolve(dir));
  let fix: string;
  if (owner === uid)
    fix = made
      ? `make it writable: chmod u+wx ${shellQuote(there)}`
      : `make it writable: chmod -R u+rwX ${q}`;
  else {
    const by = owner === undefined ? "its owner or root" : `uid ${owner} (its owner) or root`;
    fix = made
      ? `have ${by} make the run directory for uid ${uid}: mkdir -p ${q} && chown ${uid}:${gid} ${q}`
      : `have ${by} give it to uid ${uid}: chown -R ${uid}:${gid} ${q}`;
  }
  return `${who}; ${CHOOSE_WRITABLE}, or ${fix}`;
}

/**
 * The error of a run directory (or a folder above it) mkdir refused with `code` (EEXIST: a file is
 * where the run directory would be).
 */
export function runDirNotCreated(dir: string, code: string, cause?: unknown): RunDirError {
  if (code === "EEXIST")
    return new RunDirError(dir, `exists and is not a folder; ${CHOOSE_ANOTHER_RUN_DIR}`, { cause });
  const fix = permissionFix(dir, code, true);
  const said = fix === undefined ? `; ${CHOOSE_ANOTHER_RUN_DIR}` : `: ${fix}`;
  // it may be there: this user cannot tell, nor make it
  const what = fix !== undefined && unsearchableAbove(dir) !== undefined ? "reached" : "created";
  return new RunDirError(dir, `cannot be ${what} (${code})${said}`, { cause });
}

/** The error of a run directory whose lock file could not be created (`code`). */
export function runDirNotWritable(dir: string, code: string, cause?: unknown): RunDirError {
  const fix = permissionFix(dir, code, false);
  const said = fix === undefined ? `; ${CHOOSE_WRITABLE}` : `: ${fix}`;
  return new RunDirError(dir, `cannot be written (${code})${said}`, { cause });
}

/** The error of a run directory that was made (or found) but cannot be looked at (`code`). */
export function runDirNotRead(dir: string, code: string, cause?: unknown): RunDirError {
  return new RunDirError(dir, `cannot be read (${code}); ${CHOOSE_ANOTHER_RUN_DIR}`, { cause });
}

/**
 * The error lockRunDir would stop with making `dir` or creating its lock, or undefined: the first
 * folder there (`dir` itself, or the one above it that the first missing folder would be made in)
 * must be a folder this user can write in and search (W_OK | X_OK, as mkdir and an exclusive create
 * need). Another run's lock, or a lock that cannot be read, is checkRunDirFree's.
 */
export function runDirWriteProblem(dir: string): RunDirError | undefined {
  const probe = writeProbe(dir);
  if (probe === undefined) return undefined;
  if (probe.kind === "not-a-folder") return runDirNotCreated(dir, probe.self ? "EEXIST" : "ENOTDIR");
  const code = (probe.cause as NodeJS.ErrnoException).code ?? String(probe.cause);
  return probe.self ? runDirNotWritable(dir, code, probe.cause) : runDirNotCreated(dir, code, probe.cause);
}
