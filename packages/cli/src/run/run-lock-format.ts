// The run lock's file and what it holds (run-lock.ts takes it): a run's pid, then `KEY VALUE` lines.
// Also whether a lock file there is one a run wrote, which shows the folder to be a run's (run-folder.ts).
import { isAbsolute, join } from "node:path";
// the subpaths, not @sfprompt/core's index: taking the lock loads no onnxruntime (ADR 0016 amendment 26)
import { holdsLock, lockLines, lockValue, pidOf } from "@sfprompt/core/pid-lock";
import { processStart } from "@sfprompt/core/process-start";

/**
 * The lock file (@sfprompt/core's pid-lock: taken by exclusive create, a dead run's taken over
 * through `.taking-N` successor files): the pid of the run holding the folder, `started <when>` and
 * `pidns <namespace>` where the system tells them, `took-over PID` when it took over a killed run's
 * lock, then `nats PID` and `nats-started <when>` once its nats-server runs, and `made DIR` for
 * folders other runs left to it. Not a RUN_FILES entry: --fresh keeps it.
 */
export const LOCK_FILE = ".sfprompt-run.lock";

/**
 * The lock's `made DIR` lines: folders a run that started together made for this run folder (it and
 * new folders above it) before it found the lock held, left to the holder to remove at its release
 * while empty (ADR 0016 amendment 32).
 */
export const MADE_KEY = "made";

/**
 * The lock's `took-over PID` line: this run took the folder over from the lock of a run that was
 * killed (pid PID), which shows the folder to be a run's (run-folder.ts, ADR 0016 amendment 49).
 */
export const TOOK_OVER_KEY = "took-over";

/** `KEY <when>` for the lock of `pid`, or nothing where the system cannot tell when it started. */
export function startedLine(key: string, pid: number): string {
  const start = processStart(pid);
  return start === undefined ? "" : `${key} ${start}\n`;
}

const isPid = (v: string): boolean => pidOf(v) !== undefined;
// processStart's `<boot id> <start ticks>`
const isStart = (v: string): boolean => /^[0-9a-f-]+ \d+$/.test(v);

/** Each line a run writes after its pid: its key and the form of its value. */
const LINE_FORMS: Readonly<Record<string, (value: string) => boolean>> = {
  started: isStart,
  pidns: (v) => /^pid:\[\d+\]$/.test(v),
  [TOOK_OVER_KEY]: (v) => v === "?" || isPid(v),
  nats: isPid,
  "nats-started": isStart,
  [MADE_KEY]: isAbsolute,
};

/**
 * Whether `lines` are a run lock's as every sfprompt wrote it: a pid on the first line, then only
 * LINE_FORMS' lines (an older run's lock holds its pid alone), a newline ending the last. A file of
 * that name that is not (the user's, another tool's, one a taker never wrote) shows nothing.
 */
export function isRunLockText(lines: readonly string[]): boolean {
  if (lines.length < 2 || lines.at(-1) !== "" || !isPid(lines[0] ?? "")) return false;
  return lines.slice(1, -1).every((line) => {
    const space = line.indexOf(" ");
    const key = line.slice(0, space);
    return (
      space > 0 &&
      Object.hasOwn(LINE_FORMS, key) &&
      (LINE_FORMS[key] as (v: string) => boolean)(line.slice(space + 1))
    );
  });
}

/**
 * Whether the folder's lock shows that a run used it before: a run's lock (isRunLockText) a killed
 * run left (looked at by sfprompt validate, which takes none; checkRunDirFree refused a live
 * holder's), or this run's own lock when it took the folder over from a killed run's (its
 * `took-over` line, written only when that lock was a run's).
 */
export function lockShowsEarlierRun(dir: string): boolean {
  const path = join(dir, LOCK_FILE);
  const lines = lockLines(path);
  if (!isRunLockText(lines)) return false;
  return !holdsLock(path) || lockValue(lines, TOOK_OVER_KEY) !== undefined;
}
