// A built-in data set's one file that this process's user cannot read (EACCES/EPERM): said with the
// user and the chmod, not taken for a missing file (existsSync answers false for a folder the user
// may not search) nor left as a bare EACCES. Fashion-MNIST's folder of four files has its own (c71603a).
import { statSync } from "node:fs";
import { type UnreadableTarget, unreadableDetail } from "../runtime/unreadable-path.js";
import { DatasetUnreadableError } from "./errors.js";

/** DatasetUnreadableError for the data file `path` when `cause` is a permission error; else undefined. */
export function unreadableFileError(path: string, cause: unknown): DatasetUnreadableError | undefined {
  const target: UnreadableTarget = { path, kind: "file", where: "on this machine", doc: "docs/datasets.md" };
  const detail = unreadableDetail(target, cause);
  return detail === undefined ? undefined : new DatasetUnreadableError(target, detail, { cause });
}

/**
 * Whether the data file `path` is there: false when it is not (ENOENT, ENOTDIR), a
 * DatasetUnreadableError when a folder on its way may not be searched by this user.
 */
export function dataFileIsThere(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (cause) {
    const denied = unreadableFileError(path, cause);
    if (denied !== undefined) throw denied;
    return false;
  }
}
