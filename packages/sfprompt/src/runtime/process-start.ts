// Tells a process apart from a later one that was given its pid: a lock that names a killed process's
// pid (sfprompt run's run folder, a cache folder's filler) must not stay held because the system
// reused that pid for an unrelated process. Also the subpath @sfprompt/core/process-start, for
// callers that should not load the whole package (kube-testing).
import { readFileSync, readlinkSync } from "node:fs";

/** Whether a process with this pid exists now (any process: pids are reused). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * When the process `pid` started, as "<boot id> <start time>": Linux's boot id and field 22 of
 * /proc/PID/stat (clock ticks since boot), which together no other process has had. Undefined where
 * that cannot be read (no /proc, the process gone or hidden from this user).
 */
export function processStart(pid: number): string | undefined {
  const boot = readOrUndefined("/proc/sys/kernel/random/boot_id")?.trim();
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (!boot || stat === undefined) return undefined;
  // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so fields count from the last ")"
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = fields[22 - 3];
  return ticks !== undefined && /^\d+$/.test(ticks) ? `${boot} ${ticks}` : undefined;
}

/**
 * Whether `pid` is still the process that started at `start` (processStart's value when it was
 * recorded). Without a recorded start, or where this system cannot tell when `pid` started, a live
 * pid is taken for it, as before starts were recorded.
 */
export function isSameProcess(pid: number, start: string | undefined): boolean {
  const now = processStart(pid);
  // no start to compare: whether the pid runs at all (no /proc, or the process hidden or gone)
  if (now === undefined) return pidExists(pid);
  return start === undefined || now === start;
}

/**
 * This process's pid namespace ("pid:[4026531836]" on Linux), or undefined where it cannot be read.
 * A pid written in another namespace (another container sharing a folder) names some other process
 * here, and its start time is not this namespace's process's either.
 */
export function pidNamespace(): string | undefined {
  try {
    return readlinkSync("/proc/self/ns/pid");
  } catch {
    return undefined;
  }
}
