// The run's nats-server in its lock: noted when it starts, and stopped when a killed run left it
// running on the run's JetStream store (run-lock.ts calls it before it takes the killed run's lock over).
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
// the subpaths, not @sfprompt/core's index: taking the lock loads no onnxruntime (ADR 0016 amendment 26)
import { lockLines, lockValue, pidOf } from "@sfprompt/core/pid-lock";
import { isSameProcess, pidExists, pidNamespace } from "@sfprompt/core/process-start";
import { LOCK_FILE, startedLine } from "./run-lock-format.js";

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Stops the nats-server a killed run left behind (a SIGKILLed process runs no exit hook): it still
 * holds the run's JetStream store, and a second server on that store corrupts it. Only the process
 * that started when the lock says, and is a nats-server (Linux: /proc/PID/cmdline), is stopped: its
 * pid may have been reused since, by anything, another run's nats-server too.
 */
export function stopLeftNatsServer(path: string): void {
  const lines = lockLines(path);
  const pid = pidOf(lockValue(lines, "nats"));
  // a pid noted in another pid namespace (a container sharing the folder) names another process here
  const ns = lockValue(lines, "pidns");
  if (ns !== undefined && ns !== pidNamespace()) return;
  if (pid === undefined || !isSameProcess(pid, lockValue(lines, "nats-started"))) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone, or no /proc here
  }
  if (!cmdline.includes("nats-server")) return;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; waited < 5000 && pidExists(pid); waited += 50) sleepSync(50);
  if (pidExists(pid)) process.kill(pid, "SIGKILL");
}

/** Notes the run's nats-server in its lock, so that a run after a SIGKILL can stop it. */
export function recordNatsServer(dir: string, pid: number): void {
  appendFileSync(join(dir, LOCK_FILE), `nats ${pid}\n${startedLine("nats-started", pid)}`);
}
