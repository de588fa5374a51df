// Runs one test file for `node --test` (which starts this in node's place, see group-per-file.cjs):
// the file's process leads a process group (and session) of its own, and whenever it ends (passed,
// crashed, killed by the runner's timeout, SIGKILLed) whatever it started is stopped too.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { clearTimeout, setInterval, setTimeout } from "node:timers";
import { RUN_TAG_VAR, signalLeftovers, stopLeftovers } from "./process-groups.mjs";

/** How long leftovers, or a file's process told to stop, may take after SIGTERM before SIGKILL. */
const GRACE_MS = 3000;
const PARENT_POLL_MS = 500;
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];

const tag = `${process.pid}-${randomBytes(6).toString("hex")}`;
const child = spawn(process.env.SFPROMPT_TEST_NODE ?? process.execPath, process.argv.slice(2), {
  // a new session and process group, led by the child: -child.pid reaches all it starts
  detached: true,
  stdio: "inherit",
  env: { ...process.env, [RUN_TAG_VAR]: tag },
});
const pgid = child.pid;

let killTimer;
let stopping = false;
/** The runner (or a terminal) stops the file: pass the signal on to all of it, SIGKILL after the grace. */
function stop(signal) {
  if (stopping || pgid === undefined) return;
  stopping = true;
  signalLeftovers(pgid, tag, signal);
  killTimer = setTimeout(() => signalLeftovers(pgid, tag, "SIGKILL"), GRACE_MS);
}

for (const s of FORWARDED) process.on(s, () => stop(s));
// `node --test` exits on SIGINT/SIGTERM without stopping its files, and a runner can be SIGKILLed
const parent = process.ppid;
setInterval(() => process.ppid !== parent && stop("SIGTERM"), PARENT_POLL_MS).unref();

child.once("error", (err) => {
  process.stderr.write(`file-supervisor: cannot start ${process.argv.slice(2).join(" ")}: ${err.message}\n`);
  process.exit(1);
});

child.once("exit", async (code, signal) => {
  clearTimeout(killTimer);
  await stopLeftovers(pgid, tag, GRACE_MS);
  if (signal === null) process.exit(code ?? 1);
  // end the way the file's process ended, so that the runner reports the same signal
  for (const s of FORWARDED) process.removeAllListeners(s);
  process.kill(process.pid, signal);
  setTimeout(() => process.exit(1), 1000).unref();
});
