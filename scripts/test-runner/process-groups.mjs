// What a test file leaves behind: the live processes of its process group, plus those that left the
// group (setsid, `detached: true`) but still carry the file's run tag in their environment.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** The environment variable whose value tags every process started for one run of one test file. */
export const RUN_TAG_VAR = "SFPROMPT_TEST_FILE_RUN";

const POLL_MS = 50;
const hasProc = existsSync("/proc/self/stat");

/** State and process group of `pid` from /proc/<pid>/stat, or undefined once it is gone. */
function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
    const [state, , pgrp] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

function carriesTag(pid, entry) {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(entry);
  } catch {
    return false; // gone, or another user's
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty
  }
}

function signalPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // exited meanwhile
  }
}

/**
 * Pids of the live (not zombie) processes in group `pgid` or tagged with `tag`, this process
 * excepted. Zombies count as gone: here PID 1 does not reap orphans, so they stay.
 */
export function leftovers(pgid, tag) {
  if (!hasProc) return signalGroup(pgid, 0) ? [pgid] : [];
  const entry = Buffer.from(`${RUN_TAG_VAR}=${tag}\0`);
  const found = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const s = stat(name);
    if (s === undefined || s.state === "Z" || s.state === "X") continue;
    if (s.pgrp === pgid || (tag !== undefined && carriesTag(name, entry))) found.push(Number(name));
  }
  return found;
}

/**
 * Sends `signal` to each tagged process and then to group `pgid` (last: the caller may be in it);
 * true if any was there.
 */
export function signalLeftovers(pgid, tag, signal) {
  const pids = leftovers(pgid, tag);
  if (pids.length === 0) return false;
  for (const pid of pids) signalPid(pid, signal);
  signalGroup(pgid, signal);
  return true;
}

/**
 * Stops what is left of a test file's run: SIGTERM, then SIGKILL to whatever still runs after
 * `graceMs`. Returns the number of processes that were left (0: the file cleaned up after itself).
 */
export async function stopLeftovers(pgid, tag, graceMs) {
  const left = leftovers(pgid, tag).length;
  if (left === 0) return 0;
  signalLeftovers(pgid, tag, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    if (leftovers(pgid, tag).length === 0) return left;
  }
  // a process may fork while being killed: a few rounds until nothing answers
  for (let i = 0; i < 5 && signalLeftovers(pgid, tag, "SIGKILL"); i++) await sleep(POLL_MS);
  return left;
}
