// How startLocalNats runs nats-server: as its child, or (ownProcessGroup) in a session of its own
// beside a POSIX sh watcher that stops it when this process goes, however it ends (SIGKILL included).
import { spawn, type ChildProcess } from "node:child_process";

/** How long a stopped server may take to exit before it is killed (SIGKILL). */
export const STOP_GRACE_MS = 5000;

/** The name the watcher runs under ($0), so that `ps` shows what it is. */
export const WATCHER_NAME = "sfprompt-nats-watcher";

/**
 * The watcher of an ownProcessGroup server, run by /bin/sh with the server's pid as $1: it blocks
 * reading its stdin, a pipe from this process that only closes when this process exits (the kernel
 * closes it on SIGKILL too), then stops the server (SIGTERM, SIGKILL after the grace period). A
 * shell (1.6 MiB resident) instead of a Node process (42 MiB): ADR 0042, bench/nats-watcher/rss.ts.
 */
const WATCHER = [
  "read _ || :",
  'kill -TERM "$1" 2>/dev/null || exit 0',
  "i=0",
  `while [ "$i" -lt ${STOP_GRACE_MS / 1000} ] && kill -0 "$1" 2>/dev/null; do sleep 1; i=$((i + 1)); done`,
  'kill -KILL "$1" 2>/dev/null',
  "exit 0",
].join("; ");

export interface SpawnedNats {
  /** The nats-server itself (this process's child either way). */
  readonly child: ChildProcess;
  /** Resolves once the watcher runs (at once without one); rejects when it cannot start. */
  readonly watching: Promise<void>;
}

export function spawnNatsServer(binary: string, args: string[], ownGroup: boolean): SpawnedNats {
  // detached: a new session and process group, out of the reach of the terminal's Ctrl-C and hangup
  const child = spawn(binary, args, { detached: ownGroup, stdio: ["ignore", "ignore", "pipe"] });
  if (!ownGroup || child.pid === undefined) return { child, watching: Promise.resolve() };
  const watcher = spawn("/bin/sh", ["-c", WATCHER, WATCHER_NAME, String(child.pid)], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  const watching = new Promise<void>((resolve, reject) => {
    watcher.once("spawn", resolve);
    watcher.once("error", (e) =>
      reject(new Error(`its watcher (/bin/sh) did not start: ${e.message}`, { cause: e })),
    );
  });
  // nothing is ever written to it; an error on the pipe (the watcher gone) must not crash this process
  watcher.stdin?.on("error", () => undefined);
  watcher.unref();
  // a server that exited (stopped, or on its own) needs no watcher, and its pid may be reused
  child.once("exit", () => watcher.kill("SIGKILL"));
  return { child, watching };
}
