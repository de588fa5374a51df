// A built-in data set's file or folder that this process's user cannot read (EACCES/EPERM): said with
// the user and the chmod, not taken for a missing file (existsSync answers false for a folder the user
// may not search) nor left as a bare EACCES.
import { statSync } from "node:fs";
import { type UnreadableTarget, unreadableDetail } from "../runtime/unreadable-path.js";
import { DatasetUnreadableError } from "./errors.js";

/** What a data set's message names as unreadable; it is fixed on this machine (docs/datasets.md). */
export type UnreadableData = Omit<UnreadableTarget, "where" | "doc">;

/** DatasetUnreadableError for `target` (a path alone: one file) when `cause` is a permission error; else undefined. */
export function unreadableFileError(
  target: string | UnreadableData,
  cause: unknown,
): DatasetUnreadableError | undefined {
  const data = typeof target === "string" ? { path: target, kind: "file" as const } : target;
  const full: UnreadableTarget = { ...data, where: "on this machine", doc: "docs/datasets.md" };
  const detail = unreadableDetail(full, cause);
  return detail === undefined ? undefined : new DatasetUnreadableError(full, detail, { cause });
}

/**
 * Whether the data file `path` is there: false when it is not (ENOENT, ENOTDIR), a
 * DatasetUnreadableError naming `denied` (by default the file) when a folder on its way may not be
 * searched by this user.
 */
export function dataFileIsThere(path: string, denied: string | UnreadableData = path): boolean {
  try {
    statSync(path);
    return true;
  } catch (cause) {
    const error = unreadableFileError(denied, cause);
    if (error !== undefined) throw error;
    return false;
  }
}
