// The process shell shared by the server and client entry points: settings and run config, JSON logs,
// /healthz + /readyz + /metrics, one NATS connection, the role's runtime, and an orderly shutdown
// (abort, wait for the runtime, drain NATS, close HTTP) within the grace period. Returns the exit code.
// A server that failed its job lingers not-ready when asked to linger (ADR 0037): exiting would only
// make a Deployment restart it into the same failure.
import type { NatsConnection } from "@nats-io/transport-node";
import { readNatsAuth } from "./credentials.js";
import { ConfigFileError, SettingsError } from "./errors.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { failureReport } from "./failure-report.js";
import { startHttp, type HttpEndpoints } from "./http-endpoints.js";
import { createLogger, isLogLevel, type Logger } from "./logger.js";
import { connectWithRetry, watchConnection, type ConnectionState } from "./nats-connection.js";
import { watchEvents } from "./event-watch.js";
import { ProcessMetrics } from "./process-metrics.js";
import type { RoleDefinition } from "./role.js";
import { applyOverrides, checkIdentity, readRunConfigFile } from "./run-config-file.js";
import { readSettings, usage, wantsHelp, type Env, type ProcessSettings } from "./settings.js";
import { Shutdown } from "./shutdown.js";
import type { RunConfig } from "@sfprompt/api";

export interface ProcessIo {
  /** Where JSON log lines go (default stdout). */
  readonly writeLog?: (line: string) => void;
  /** Where --help goes (default stdout). */
  readonly writeUsage?: (text: string) => void;
}

/** Runs `role` as a process: parses `argv`/`env`, runs until done or stopped, returns the exit code. */
export async function runProcess(
  role: RoleDefinition,
  argv: readonly string[],
  env: Env,
  io: ProcessIo = {},
): Promise<ExitCode> {
  if (wantsHelp(argv)) {
    (io.writeUsage ?? ((t: string): void => void process.stdout.write(t)))(usage(role.role));
    return EXIT.ok;
  }
  const level =
    env.SFPROMPT_LOG_LEVEL !== undefined && isLogLevel(env.SFPROMPT_LOG_LEVEL)
      ? env.SFPROMPT_LOG_LEVEL
      : "info";
  const boot = createLogger({
    level,
    fields: { role: role.role },
    ...(io.writeLog ? { write: io.writeLog } : {}),
  });
  let settings: ProcessSettings;
  let config: RunConfig;
  try {
    settings = readSettings(role.role, argv, env);
    const loaded = await readRunConfigFile(settings.configPath);
    checkIdentity(settings.configPath, loaded.config, settings);
    config = applyOverrides(loaded.config, settings);
    if (config.transport.url === undefined) {
      throw new SettingsError(
        "--nats-url / NATS_URL",
        "the run config has no transport.url (bundled NATS); pass the URL of the NATS server",
      );
    }
  } catch (error) {
    if (error instanceof SettingsError || error instanceof ConfigFileError) {
      boot.log("error", "config.invalid", { ...configErrorFields(error), error: error.message });
      return EXIT.config;
    }
    boot.log("error", "config.failed", { error });
    return EXIT.config;
  }
  const name = role.processName(settings);
  const logger = createLogger({
    level: settings.logLevel,
    fields: { job: config.names.job, role: role.role, ...(role.role === "client" ? { client: name } : {}) },
    ...(io.writeLog ? { write: io.writeLog } : {}),
  });
  return new ProcessRun(role, settings, config, name, logger).run();
}

function configErrorFields(error: SettingsError | ConfigFileError): Record<string, unknown> {
  return error instanceof SettingsError
    ? { setting: error.setting }
    : error.specField === undefined
      ? { path: error.path, field: error.field }
      : { path: error.path, field: error.specField, runConfigField: error.field };
}

class ProcessRun {
  readonly #metrics: ProcessMetrics;
  readonly #shutdown: Shutdown;
  readonly #nats: ConnectionState = { connected: false };
  #runtimeReady = false;
  /** Set before our own drain, so that the connection's close is not taken for a failure. */
  #closing = false;
  #nc: NatsConnection | undefined;
  #http: HttpEndpoints | undefined;
  #exit: ExitCode = EXIT.ok;
  /** The reason of the job this server failed (ServerJobFailedError), shown by /readyz while it lingers. */
  #failedJob: string | undefined;

  constructor(
    readonly role: RoleDefinition,
    readonly settings: ProcessSettings,
    readonly config: RunConfig,
    readonly name: string,
    readonly logger: Logger,
  ) {
    this.#metrics = new ProcessMetrics({
      role: role.role,
      namespace: config.job.namespace,
      job: config.job.name,
      ...(role.role === "client" ? { client: name } : {}),
    });
    this.#shutdown = new Shutdown(settings.graceMs, () => logger);
  }

  async run(): Promise<ExitCode> {
    const onRejection = (reason: unknown): void => {
      // never crash on one bad message: a stray rejection is logged and counted, the process goes on
      this.#metrics.error("unhandled-rejection");
      this.logger.log("error", "unhandled-rejection", { error: reason });
    };
    const onException = (error: Error): void => {
      this.#metrics.error("uncaught-exception");
      this.logger.log("error", "uncaught-exception", { error, stack: error.stack });
      this.#fail(EXIT.runtime);
      this.#shutdown.stop("fatal");
    };
    process.on("unhandledRejection", onRejection);
    process.on("uncaughtException", onException);
    try {
      const forced = this.#shutdown.forced.then((why) => {
        this.logger.log("error", "shutdown.forced", { reason: why });
        return EXIT.forced;
      });
      return await Promise.race([this.#work(), forced]);
    } finally {
      this.#shutdown.dispose();
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    }
  }

  async #work(): Promise<ExitCode> {
    const s = this.settings;
    this.logger.log("info", "process.starting", {
      config: s.configPath,
      method: this.config.method,
      clients: this.config.clients.count,
      rounds: this.config.training.rounds,
      ...(s.restartAttempt !== undefined ? { restartAttempt: s.restartAttempt } : {}),
      ...(s.nodeName !== undefined ? { node: s.nodeName } : {}),
      ...(this.role.role === "server" ? { executionProvider: this.config.server.executionProvider } : {}),
    });
    try {
      this.#http = await startHttp({
        host: s.httpHost,
        port: s.httpPort,
        readiness: { notReadyReason: () => this.#notReadyReason() },
        metrics: () => this.#renderMetrics(),
      });
      this.logger.log("info", "http.listening", { address: this.#http.address, port: this.#http.port });
      await this.#connect();
      await this.#runRole();
    } catch (error) {
      this.#report(error);
      if (this.#failedJob !== undefined) await this.#linger({ failed: this.#failedJob });
    } finally {
      this.#shutdown.startGrace();
      await this.#cleanup();
    }
    this.logger.log(this.#exit === EXIT.ok ? "info" : "error", "process.exit", { code: this.#exit });
    return this.#exit;
  }

  async #connect(): Promise<void> {
    const { auth, kind } = await readNatsAuth(this.settings.credentialsDir);
    const url = this.config.transport.url!;
    this.logger.log("info", "nats.connecting", { url, auth: kind });
    const nc = await connectWithRetry({
      url,
      name: `sfprompt-${this.name}-${this.config.names.job}`,
      auth,
      timeoutMs: this.settings.connectTimeoutMs,
      signal: this.#shutdown.signal,
      logger: this.logger,
    });
    this.#nc = nc;
    void watchConnection(nc, this.#nats, this.logger);
    this.logger.log("info", "nats.connected", { server: nc.getServer() });
    void nc.closed().then((error) => {
      if (this.#closing || this.#shutdown.reason !== undefined) return;
      this.logger.log("error", "nats.closed", { error });
      this.#fail(EXIT.nats);
      this.#shutdown.stop("nats-closed");
    });
    if (this.role.watchEvents) watchEvents(nc, this.config.names.job, this.#metrics, this.logger);
  }

  async #runRole(): Promise<void> {
    if (this.#shutdown.signal.aborted) return;
    const started = Date.now();
    await this.role.run({
      config: this.config,
      settings: this.settings,
      nc: this.#nc!,
      signal: this.#shutdown.signal,
      logger: this.logger,
      metrics: this.#metrics,
      markReady: () => {
        if (this.#runtimeReady) return;
        this.#runtimeReady = true;
        this.logger.log("info", "runtime.ready", { afterMs: Date.now() - started });
      },
    });
    if (this.#shutdown.reason !== undefined) return;
    this.logger.log("info", "runtime.finished", { durationMs: Date.now() - started });
    await this.#linger({});
  }

  /** With --linger-after-finish, waits for SIGTERM: a Deployment restarts a container that exits, even with 0. */
  async #linger(fields: Record<string, unknown>): Promise<void> {
    const signal = this.#shutdown.signal;
    if (!this.settings.lingerAfterFinish || signal.aborted) return;
    this.logger.log("info", "runtime.lingering", fields);
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  }

  #report(error: unknown): void {
    const r = failureReport(error);
    if (this.#shutdown.reason === "signal" && r.code !== EXIT.ok) {
      // whatever the abort made the work throw (an AbortError, a NATS connect cut short, the
      // runtime's own error type), a stop on SIGTERM/SIGINT is orderly
      if (!isAbortLike(error, this.#shutdown.signal)) this.logger.log("info", "runtime.stopped", { error });
      return;
    }
    this.logger.log(r.level, r.event, r.fields);
    this.#fail(r.code);
    if (r.failedJob !== undefined) this.#failedJob = r.failedJob;
  }

  #fail(code: ExitCode): void {
    if (this.#exit === EXIT.ok) this.#exit = code;
  }

  async #cleanup(): Promise<void> {
    this.#runtimeReady = false;
    this.#closing = true;
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) {
      try {
        await nc.drain();
        this.logger.log("info", "nats.drained");
      } catch (error) {
        this.logger.log("warn", "nats.drain-failed", { error });
        await nc.close().catch(() => undefined);
      }
    }
    await this.#http?.close();
  }

  #notReadyReason(): string | undefined {
    if (this.#shutdown.reason !== undefined) return "shutting down";
    if (this.#failedJob !== undefined) return `job failed: ${this.#failedJob}`;
    if (this.#nc === undefined) return "connecting to NATS";
    if (!this.#nats.connected) return "NATS disconnected";
    if (!this.#runtimeReady) return "runtime starting";
    return undefined;
  }

  async #renderMetrics(): Promise<string> {
    this.#metrics.setReady(this.#notReadyReason() === undefined);
    this.#metrics.setNatsConnected(this.#nats.connected && this.#nc !== undefined && !this.#nc.isClosed());
    const nc = this.#nc;
    if (nc !== undefined && this.#nats.connected && !nc.isClosed() && !nc.isDraining()) {
      const rtt = await Promise.race([nc.rtt().catch(() => undefined), delay(1000)]);
      if (rtt !== undefined) this.#metrics.setNatsRtt(rtt / 1000);
    }
    return this.#metrics.render();
  }
}

function isAbortLike(error: unknown, signal: AbortSignal): boolean {
  return (
    error === signal.reason ||
    (error instanceof Error && (error.name === "AbortError" || error.name === "RoundAbandonedError"))
  );
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
