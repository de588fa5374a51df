// Files and folders this process's user cannot read (EACCES/EPERM): the images run as uid 10001
// (images/Dockerfile) with no runAsUser set by the operator, and `sfprompt run`'s processes as the
// user who ran it, so files copied in place as root with mode 0600 are refused. The message names the
// path, the user and the chmod/chown that fixes it, for the job's data, a bundle folder or a file,
// and for a cache folder the user cannot write in.
import { accessSync, constants, statSync } from "node:fs";
import { shellQuote } from "@sfprompt/api";
import type { DataSource } from "./job-source.js";

/** The EACCES/EPERM error in `cause`'s chain, if any. */
export function permissionError(cause: unknown): NodeJS.ErrnoException | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return e as NodeJS.ErrnoException;
  }
  return undefined;
}

/** What could not be read: a folder (read with everything in it) or one file. */
export interface UnreadableTarget {
  readonly path: string;
  readonly kind: "folder" | "file";
  /** How the message calls what must be readable, e.g. "the folder, its class folders and images". */
  readonly what?: string;
  /** Where the fix is made, e.g. "on the node", "on this machine". */
  readonly where: string;
  /** The doc that says more, e.g. "docs/datasets.md". */
  readonly doc?: string;
  /** Further files (kind "file") this user cannot read either, named and fixed in the same message. */
  readonly also?: readonly string[];
}

/**
 * "<path> cannot be read by this process's user (uid U, gid G; EACCES): make <what> readable by uid U
 * <where>: chmod …" when `cause` is a permission error; else undefined (other errors keep their own
 * message).
 */
export function unreadableDetail(target: UnreadableTarget, cause: unknown): string | undefined {
  const denied = permissionError(cause);
  if (denied === undefined) return undefined;
  const { where } = target;
  // several files are fixed by one chmod naming them all (a user fixing one at a time met the next)
  const also = target.kind === "file" ? (target.also ?? []) : [];
  // each path quoted: a space, quote or $ in one would split or expand the pasted command
  const path = [target.path, ...also].map(shellQuote).join(" ");
  const named = also.length === 0 ? (denied.path ?? target.path) : [target.path, ...also].join(", ");
  const ids = processIds();
  // no uid where process.getuid is absent (Windows): "uid -1" and "chown -1:-1" would be wrong advice
  const user = ids === undefined ? "this process's user" : `uid ${ids.uid}`;
  const who = ids === undefined ? "" : `uid ${ids.uid}, gid ${ids.gid}; `;
  const chown = (flag: string): string =>
    ids === undefined ? "" : ` (or chown ${flag}${ids.uid}:${ids.gid} ${path})`;
  const files = also.length === 0 ? "the file" : "the files";
  const their = also.length === 0 ? "its" : "their";
  const fix =
    target.kind === "folder"
      ? `${target.what ?? "the folder and everything in it"} readable by ${user} ${where}: chmod -R a+rX ${path}${chown("-R ")}`
      : `${target.what ?? files} readable by ${user} ${where}: chmod a+r ${path}${chown("")}, and ${their} folders searchable (a+x)`;
  const see = target.doc === undefined ? "" : `; see ${target.doc}`;
  return `${named} cannot be read by this process's user (${who}${denied.code}): make ${fix}${see}`;
}

/**
 * "<folder> cannot be written by this process's user (uid U, gid G; EACCES): make it writable by uid
 * U: chown -R U:G <folder> (or chmod -R a+rwX <folder>)" when `cause` is a permission error met
 * writing in `folder` (a cache folder: creating a folder or a file in it); else undefined.
 */
export function unwritableDetail(folder: string, cause: unknown): string | undefined {
  const denied = permissionError(cause);
  if (denied === undefined) return undefined;
  const ids = processIds();
  const chmod = `chmod -R a+rwX ${shellQuote(folder)}`;
  const fix =
    ids === undefined
      ? `make it writable by this process's user: ${chmod}`
      : `make it writable by uid ${ids.uid}: chown -R ${ids.uid}:${ids.gid} ${shellQuote(folder)} (or ${chmod})`;
  const who = ids === undefined ? "" : `uid ${ids.uid}, gid ${ids.gid}; `;
  return `${folder} cannot be written by this process's user (${who}${denied.code}): ${fix}`;
}

/** How `pathIsThere` looks at a path, and what it throws when this user may not. */
export interface ThereCheck {
  /** What the message names as unreadable, and where and how it is fixed. */
  readonly target: UnreadableTarget;
  /** The caller's error for `unreadableDetail`'s text (a data set's, a job field's, a setting's). */
  readonly denied: (detail: string, cause: unknown) => Error;
  /** Also check that a file (not a folder) can be read (R_OK), not only that it is there (default false). */
  readonly read?: boolean;
}

/**
 * Whether `path` is there: false when it is not (ENOENT, ENOTDIR, …); `check.denied`'s error, thrown,
 * when this user may not search a folder on its way or (with `read`) read it. Not existsSync: it
 * answers false for a file behind a folder the user may not search, which read as "missing" and sent
 * the user looking for a file that is there.
 */
export function pathIsThere(path: string, check: ThereCheck): boolean {
  const refuse = (cause: unknown): false => {
    const detail = unreadableDetail(check.target, cause);
    if (detail !== undefined) throw check.denied(detail, cause);
    return false;
  };
  let folder: boolean;
  try {
    folder = statSync(path).isDirectory();
  } catch (cause) {
    return refuse(cause);
  }
  // a folder where a file was meant is the caller's to tell (it is there)
  if (check.read !== true || folder) return true;
  try {
    accessSync(path, constants.R_OK);
  } catch (cause) {
    // a file that is there but may not be read: only a permission error is expected here
    if (refuse(cause) === false) throw cause;
  }
  return true;
}

/** This process's uid and gid; undefined where Node has no process.getuid/getgid (Windows). */
function processIds(): { uid: number; gid: number } | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/**
 * "/data/x/1/2.png cannot be read by this process's user (uid 10001, gid 10001; EACCES): make …
 * readable by uid 10001 <where> …" when `cause` is a permission error met reading `source`'s folder or
 * JSONL file; else undefined.
 */
export function unreadableDataDetail(source: DataSource, cause: unknown, where: string): string | undefined {
  const folder = source.imageFolder?.path;
  const path = folder ?? source.jsonl?.path;
  if (path === undefined) return undefined;
  const what = folder !== undefined ? "the folder, its class folders and images" : "the file";
  const kind = folder !== undefined ? "folder" : "file";
  return unreadableDetail({ path, kind, what, where, doc: "docs/datasets.md" }, cause);
}
