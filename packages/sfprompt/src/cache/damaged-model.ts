// A built-in model's cached model.onnx that is damaged (cut short by a full volume or an interrupted
// copy, overwritten): found by reading its structure, not its weights, and replaced under the
// fill-once lock by callers that build it again themselves (the images, ADR 0017 amendment 32).
import { renameSync, rmSync } from "node:fs";
import { OnnxIoError, readModelOutline } from "@sfprompt/engine";

/** What is wrong with the ONNX file at `path` (the engine's message), or undefined when it reads. */
export function modelDamage(path: string): string | undefined {
  try {
    readModelOutline(path);
    return undefined;
  } catch (cause) {
    if (cause instanceof OnnxIoError) return cause.message;
    throw cause;
  }
}

/** A damaged copy renamed aside whose files this process could not remove. */
export interface LeftAside {
  readonly dir: string;
  /** The system's error, in words. */
  readonly error: string;
}

/**
 * fillOnce's install for a folder that may hold a damaged copy: the copy is renamed aside (a folder
 * is not renamed over one that holds files), the filled `tmp` renamed into place, the old one removed.
 * One whose files cannot be removed (another user's, in a folder this one may not write) stays aside
 * as `<dir>.damaged-<pid>` and is returned, for the caller to tell: the new copy is in place.
 */
export function replaceFolder(tmp: string, dir: string): LeftAside | undefined {
  const aside = `${dir}.damaged-${process.pid}`;
  try {
    renameSync(dir, aside);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw cause;
    renameSync(tmp, dir);
    return undefined;
  }
  renameSync(tmp, dir);
  try {
    rmSync(aside, { recursive: true, force: true });
    return undefined;
  } catch (cause) {
    return { dir: aside, error: String(cause) };
  }
}
