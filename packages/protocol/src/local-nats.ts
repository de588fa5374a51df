// Starts a local nats-server (the Debian package) with JetStream on a free loopback port: used by
// `sfprompt run` when no NATS URL is given, and by tests through @sfprompt/protocol/testing.
import type { ChildProcess } from "node:child_process";
import { accessSync, constants, rmSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { startFailureLines } from "./local-nats-failure.js";
import { spawnNatsServer, STOP_GRACE_MS } from "./local-nats-watcher.js";

export interface LocalNatsOptions {
  /** Largest message the server accepts (default 8 MiB). */
  readonly maxPayload?: number;
  /** Client port; default a free port chosen by the server itself (no race between probe and bind). */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** JetStream store; kept after stop() when given (so a second run resumes), else a temp dir. */
  readonly storeDir?: string;
  /**
   * The server's log; kept after stop() when given (appended to on a second start), else in the temp
   * dir. Its warnings (slow consumers, JetStream write stalls) explain retries and timeouts.
   */
  readonly logFile?: string;
  /** Also start the HTTP monitoring endpoint (/varz, /connz) on a free port. */
  readonly monitoring?: boolean;
  /** JetStream's file storage limit in bytes (default 16 GiB); tests of a full store set it small. */
  readonly maxFileStore?: number;
  /** nats-server binary; default $NATS_SERVER_BIN, then PATH, /usr/sbin, /usr/bin, /usr/local/bin. */
  readonly binary?: string;
  /** How long to wait until the server accepts connections (default 15 s). */
  readonly startTimeoutMs?: number;
  /**
   * Run the server in a process group of its own, so that a terminal's Ctrl-C (sent to the whole
   * foreground group) does not stop it under the processes that still need it; this process stops it
   * with stop(). A small watcher (a /bin/sh holding a pipe from this process) stops it too when this
   * process dies, however it dies (SIGKILL included), so it cannot outlive its user.
   */
  readonly ownProcessGroup?: boolean;
}

export interface LocalNats {
  readonly url: string;
  readonly port: number;
  readonly monitorUrl: string | undefined;
  readonly storeDir: string;
  /** The server's log file (options.logFile, else inside the temp dir that stop() removes). */
  readonly logFile: string;
  /** The nats-server's pid (this process's child). */
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes the temp dir. */
  stop(): Promise<void>;
}

/** nats-server could not be found. */
export class NatsServerNotFoundError extends Error {
  constructor(looked: readonly string[]) {
    super(
      `nats-server not found (looked in ${looked.join(", ")}); run scripts/setup.sh, which installs the ` +
        `Debian package nats-server, or set NATS_SERVER_BIN to its path`,
    );
    this.name = "NatsServerNotFoundError";
  }
}

/** nats-server exited or did not accept connections in time. */
export class NatsServerStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NatsServerStartError";
  }
}

const DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024;
/** Servers started by this process and their temp dirs, cleaned up if the process exits without stop(). */
const running = new Map<ChildProcess, { workDir: string; watched: boolean }>();
let exitHookInstalled = false;

/** Resolves the nats-server binary or throws NatsServerNotFoundError. */
export function findNatsServer(binary?: string): string {
  const candidates = binary !== undefined ? [binary] : candidatePaths();
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one; try the next candidate
    }
  }
  throw new NatsServerNotFoundError(candidates);
}

function candidatePaths(): string[] {
  const env = process.env.NATS_SERVER_BIN;
  if (env !== undefined && env !== "") return [env];
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => p !== "");
  const dirs = [...new Set([...path, "/usr/sbin", "/usr/bin", "/usr/local/bin"])];
  return dirs.map((d) => join(d, "nats-server"));
}

function renderConfig(o: LocalNatsOptions, workDir: string, storeDir: string, logFile: string): string {
  const q = JSON.stringify;
  const maxPayload = o.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  const lines = [
    `listen: ${q(`${o.host ?? "127.0.0.1"}:${o.port ?? -1}`)}`,
    `max_payload: ${maxPayload}`,
    // pending must exceed max_payload or the server refuses to start; 8 messages of headroom
    `max_pending: ${Math.max(64 * 1024 * 1024, 8 * maxPayload)}`,
    `ports_file_dir: ${q(workDir)}`,
    `log_file: ${q(logFile)}`,
    `jetstream { store_dir: ${q(storeDir)}, max_memory_store: 268435456, max_file_store: ${o.maxFileStore ?? 17179869184} }`,
  ];
  if (o.monitoring === true) lines.push(`http: ${q(`${o.host ?? "127.0.0.1"}:-1`)}`);
  return lines.join("\n") + "\n";
}

/** Starts nats-server and resolves once it accepts client connections. */
export async function startLocalNats(options: LocalNatsOptions = {}): Promise<LocalNats> {
  const binary = findNatsServer(options.binary);
  const workDir = await mkdtemp(join(tmpdir(), "sfprompt-nats-"));
  const storeDir = options.storeDir ?? join(workDir, "js");
  const confPath = join(workDir, "nats.conf");
  const logFile = options.logFile ?? join(workDir, "nats.log");
  if (options.logFile !== undefined) await mkdir(dirname(options.logFile), { recursive: true });
  await writeFile(confPath, renderConfig(options, workDir, storeDir, logFile));
  // a kept log is appended to: what this start wrote begins here
  const logStart = await stat(logFile).then(
    (s) => (s.isFile() ? s.size : 0),
    () => 0,
  );
  const own = options.ownProcessGroup === true;
  const { child, watching } = spawnNatsServer(binary, ["-c", confPath], own);
  track(child, workDir, own);
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // "close": its stderr is read to the end (a failure it wrote there may follow its exit)
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    await watching;
    const ports = await waitForPorts(workDir, child, exited, options.startTimeoutMs ?? 15_000);
    const { host, port } = parseUrl(ports.nats[0]!);
    await waitForInfo(host, port, options.startTimeoutMs ?? 15_000);
    const url = `nats://${host}:${port}`;
    const pid = child.pid!;
    return { url, port, monitorUrl: ports.monitoring?.[0], storeDir, logFile, pid, stop };
  } catch (error) {
    const log = await readFrom(logFile, logStart);
    await stop();
    await Promise.race([closed, sleep(1000)]);
    const said = startFailureLines(log, stderr);
    const where = options.logFile === undefined ? "" : `; its log: ${options.logFile}`;
    throw new NatsServerStartError(
      `nats-server (${binary}) did not start: ${(error as Error).message}${where}${said.map((l) => `\n${l}`).join("")}`,
      { cause: error },
    );
  }
}

function track(child: ChildProcess, workDir: string, watched: boolean): void {
  running.set(child, { workDir, watched });
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // a test or CLI that exits without stop() must not leave servers or temp dirs behind; a watched
  // server gets SIGTERM (it flushes its store), and its watcher kills it should it not stop in time
  process.once("exit", () => {
    for (const [c, t] of running) {
      c.kill(t.watched ? "SIGTERM" : "SIGKILL");
      rmSync(t.workDir, { recursive: true, force: true });
    }
  });
}

interface PortsFile {
  nats: string[];
  monitoring?: string[];
}

async function waitForPorts(
  workDir: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<PortsFile> {
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void exited.then(() => (done = true));
  while (Date.now() < deadline) {
    if (done) throw new Error(`it exited with code ${child.exitCode}`);
    const name = (await readdir(workDir)).find((f) => f.endsWith(".ports"));
    if (name !== undefined) {
      const text = await readFile(join(workDir, name), "utf8").catch(() => "");
      const parsed = tryParsePorts(text);
      if (parsed !== undefined) return parsed;
    }
    await sleep(20);
  }
  throw new Error(`no ports file after ${timeoutMs} ms`);
}

/** The text of `file` from byte `offset` on ("" when it cannot be read: a folder, or not there). */
async function readFrom(file: string, offset: number): Promise<string> {
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      await handle.read(buffer, 0, buffer.length, offset);
      return buffer.toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}

function tryParsePorts(text: string): PortsFile | undefined {
  try {
    const p = JSON.parse(text) as PortsFile;
    return Array.isArray(p.nats) && p.nats.length > 0 ? p : undefined;
  } catch {
    return undefined; // written but not complete yet
  }
}

function parseUrl(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/** Resolves once a TCP client receives the server's INFO line. */
async function waitForInfo(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await receivesInfo(host, port)) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} did not send INFO within ${timeoutMs} ms`);
    await sleep(20);
  }
}

function receivesInfo(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once("data", (b: Buffer) => finish(b.toString("latin1").startsWith("INFO ")));
    socket.once("error", () => finish(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
