// Whether `sfprompt run` could make its run directory and create its lock there, told without
// writing (sfprompt validate), and the errors lockRunDir (run-lock.ts) stops with when it cannot:
// one set of words for both, the check finding them from the first folder there and this user's access.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { shellQuote } from "@sfprompt/api";
// the subpath, not the index: run-lock.ts (which imports this) loads no onnxruntime (run-lock-imports)
import { firstFolderThere, writeProbe } from "@sfprompt/core/write-probe";
import { RunDirError } from "./errors.js";

/** What to do about a run directory that cannot be made or read (lockRunDir's errors). */
export const CHOOSE_ANOTHER_RUN_DIR = "choose another folder with --out DIR (or spec.output.path)";
const CHOOSE_WRITABLE = "choose a folder you can write with --out DIR (or spec.output.path)";

/**
 * For a permission error (EACCES, EPERM) met making `dir` (`made`) or writing in it: who may not
 * write where, and the pasted command that fixes it (ADR 0016 amendment 51): the folder's owner (uid
 * O) this user already is, `chmod u+wx` (or `chmod -R u+rwX` of the run directory); else, run by its
 * owner or root, `mkdir -p DIR && chown U:G DIR` (only the run directory is made and given, not the
 * folder above it) or `chown -R U:G DIR`. Undefined for other codes and where uids are unknown.
 */
function permissionFix(dir: string, code: string, made: boolean): string | undefined {
  if (code !== "EACCES" && code !== "EPERM") return undefined;
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined) return undefined;
  const there = firstFolderThere(dir);
  let owner: number | undefined;
  try {
    owner = statSync(there).uid;
  } catch {
    owner = undefined;
  }
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
  return new RunDirError(dir, `cannot be created (${code})${said}`, { cause });
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
