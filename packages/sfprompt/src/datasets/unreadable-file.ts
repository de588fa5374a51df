// A built-in data set's file or folder that this process's user cannot read (EACCES/EPERM): said with
// the user and the chmod, not taken for a missing file (existsSync answers false for a folder the user
// may not search) nor left as a bare EACCES.
import { pathIsThere, type UnreadableTarget, unreadableDetail } from "../runtime/unreadable-path.js";
import { DatasetUnreadableError } from "./errors.js";

/** What a data set's message names as unreadable; it is fixed on this machine (docs/datasets.md). */
export type UnreadableData = Omit<UnreadableTarget, "where" | "doc">;

/** `target` (a path alone: one file) as fixed on this machine, see docs/datasets.md. */
function onThisMachine(target: string | UnreadableData): UnreadableTarget {
  const data = typeof target === "string" ? { path: target, kind: "file" as const } : target;
  return { ...data, where: "on this machine", doc: "docs/datasets.md" };
}

/** DatasetUnreadableError for `target` (a path alone: one file) when `cause` is a permission error; else undefined. */
export function unreadableFileError(
  target: string | UnreadableData,
  cause: unknown,
): DatasetUnreadableError | undefined {
  const full = onThisMachine(target);
  const detail = unreadableDetail(full, cause);
  return detail === undefined ? undefined : new DatasetUnreadableError(full, detail, { cause });
}

/**
 * Whether the data file `path` is there: false when it is not (ENOENT, ENOTDIR), a
 * DatasetUnreadableError naming `denied` (by default the file) when a folder on its way may not be
 * searched by this user.
 */
export function dataFileIsThere(path: string, denied: string | UnreadableData = path): boolean {
  const target = onThisMachine(denied);
  return pathIsThere(path, {
    target,
    denied: (detail, cause) => new DatasetUnreadableError(target, detail, { cause }),
  });
}
