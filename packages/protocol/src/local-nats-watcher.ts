// How startLocalNats runs nats-server: as its child, or (ownProcessGroup) under a small watcher
// process in a session of its own that stops it when its parent goes, however that parent ends.
import { spawn, type ChildProcess } from "node:child_process";

/** How long a stopped server may take to exit before it is killed (SIGKILL). */
export const STOP_GRACE_MS = 5000;

/**
 * The watcher of an ownProcessGroup server (run with `node -e`, so it needs no file of its own):
 * starts nats-server with the arguments it is given, sends its pid over the IPC channel, relays a
 * stop signal to it (SIGKILL after the grace period), stops it when the channel closes (its parent
 * exited or was killed), and exits when it exits.
 */
const WATCHER = `
const { spawn } = require("node:child_process");
const [bin, ...args] = process.argv.slice(1);
const server = spawn(bin, args, { stdio: ["ignore", "ignore", "inherit"] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.kill("SIGTERM");
  setTimeout(() => server.kill("SIGKILL"), ${STOP_GRACE_MS}).unref();
};
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(s, stop);
process.on("disconnect", stop);
server.on("spawn", () => process.send({ pid: server.pid }, () => undefined));
server.on("error", (e) => { process.stderr.write(String(e) + "\\n"); process.exit(127); });
server.on("exit", (code) => process.exit(code ?? 1));
`;

export interface SpawnedNats {
  readonly child: ChildProcess;
  /** The nats-server's pid once it runs (undefined: it never started). */
  readonly serverPid: Promise<number | undefined>;
}

export function spawnNatsServer(binary: string, args: string[], ownGroup: boolean): SpawnedNats {
  if (!ownGroup) {
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    return { child, serverPid: Promise.resolve(child.pid) };
  }
  // detached: a new session and process group, out of the terminal's reach
  const child = spawn(process.execPath, ["-e", WATCHER, binary, ...args], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  const serverPid = new Promise<number | undefined>((resolve) => {
    child.once("message", (m) => resolve((m as { pid?: number }).pid));
    child.once("exit", () => resolve(undefined));
  });
  return { child, serverPid };
}
