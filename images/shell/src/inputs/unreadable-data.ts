// Data on a node that the pod's user cannot read: the images run as uid 10001 (images/Dockerfile) and
// the operator sets no runAsUser, so files copied onto a node as root with mode 0600 fail with
// EACCES. The message names the file, the user and the chmod/chown that fixes it (docs/datasets.md).
import type { DataSource } from "@sfprompt/core";

/** The EACCES/EPERM error in `cause`'s chain, if any. */
function permissionError(cause: unknown): NodeJS.ErrnoException | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return e as NodeJS.ErrnoException;
  }
  return undefined;
}

/**
 * "/data/x/1/2.png cannot be read by this process's user (uid 10001, gid 10001): make … readable by
 * uid 10001 …" when `cause` is a permission error met reading `source`'s folder or JSONL file; else
 * undefined (other errors keep their own message).
 */
export function unreadableDataDetail(source: DataSource, cause: unknown): string | undefined {
  const denied = permissionError(cause);
  const root = source.imageFolder?.path ?? source.jsonl?.path;
  if (denied === undefined || root === undefined) return undefined;
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const fix = source.imageFolder
    ? `the folder, its class folders and images readable by uid ${uid} on the node: chmod -R a+rX ${root} (or chown -R ${uid}:${gid} ${root})`
    : `the file readable by uid ${uid} on the node: chmod a+r ${root} (or chown ${uid}:${gid} ${root}), and its folders searchable (a+x)`;
  return (
    `${denied.path ?? root} cannot be read by this process's user (uid ${uid}, gid ${gid}; ${denied.code}): ` +
    `make ${fix}; see docs/datasets.md`
  );
}
