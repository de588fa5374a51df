// The process settings: what a flag or an environment variable says (config path, NATS URL, client
// index, HTTP port, log level, grace period), before the run config is read. Flags win over env.
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SettingsError } from "./errors.js";
import { isLogLevel, type LogLevel } from "./logger.js";

export type Role = "server" | "client";
export type Env = Readonly<Record<string, string | undefined>>;

export interface ProcessSettings {
  readonly role: Role;
  /** Run config file (YAML or JSON: an SFPromptRunConfig, or an SFPromptJob manifest). */
  readonly configPath: string;
  /** NATS URL(s), comma-separated; undefined: the run config's transport.url. */
  readonly natsUrl: string | undefined;
  /** The client's index (client role only). */
  readonly clientIndex: number | undefined;
  readonly httpHost: string;
  /** 0: any free port (local runs, tests); the chosen port is logged as `http.listening`. */
  readonly httpPort: number;
  readonly logLevel: LogLevel;
  /** How long shutdown may take after SIGTERM before the process exits anyway. */
  readonly graceMs: number;
  /** How long to keep trying the first NATS connection. */
  readonly connectTimeoutMs: number;
  /** Directory with NATS credentials (`creds`, `user` + `password`, or `token`). */
  readonly credentialsDir: string | undefined;
  /** A prepared partition bundle; undefined: prepared from the model source into the cache. */
  readonly bundleDir: string | undefined;
  /** The ONNX model, overriding model.source (where a PVC or ConfigMap volume puts it). */
  readonly modelPath: string | undefined;
  /** Where prepared bundles and the demo model are cached. */
  readonly cacheDir: string;
  /** ORT intra-op threads per session; undefined: the runtime's default (1, for small edge CPUs). */
  readonly intraOpThreads: number | undefined;
  /** Server only: overrides the run config's server.executionProvider. */
  readonly executionProvider: "cuda" | "cpu" | undefined;
  /** Checked against the run config, so a wrong ConfigMap mount is caught at start. */
  readonly expect: ExpectedIdentity;
  /** Informational, logged at start (set by the operator). */
  readonly restartAttempt: number | undefined;
  readonly nodeName: string | undefined;
  /**
   * After the job finished, stay up (health endpoints served) until SIGTERM instead of exiting 0:
   * a Deployment's pod would otherwise be restarted and run the finished job again.
   */
  readonly lingerAfterFinish: boolean;
  /**
   * Server only: how long the run retries a checkpoint or round-state write, and a progress event,
   * while NATS is away (SFPROMPT_STORE_RETRY_SECONDS, SFPROMPT_EVENT_RETRY_SECONDS; undefined: the
   * runtime's 120 s and 300 s). A job end not stored by then is retried while the server lingers.
   */
  readonly storeRetryMs?: number | undefined;
  readonly eventRetryMs?: number | undefined;
}

export interface ExpectedIdentity {
  readonly job?: string;
  readonly namespace?: string;
  readonly subjectPrefix?: string;
  readonly clientCount?: number;
}

/** Default HTTP port: the operator's HEALTH_PORT (operator/src/desired/settings.ts). */
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_GRACE_SECONDS = 20;
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 60;

const FLAGS = {
  config: { type: "string" },
  "nats-url": { type: "string" },
  "client-index": { type: "string" },
  "http-host": { type: "string" },
  "http-port": { type: "string" },
  "log-level": { type: "string" },
  "grace-seconds": { type: "string" },
  "connect-timeout-seconds": { type: "string" },
  "credentials-dir": { type: "string" },
  "bundle-dir": { type: "string" },
  "model-path": { type: "string" },
  "cache-dir": { type: "string" },
  "intra-op-threads": { type: "string" },
  "execution-provider": { type: "string" },
  "linger-after-finish": { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** Usage text of a role's entry point. */
export function usage(role: Role): string {
  const client =
    role === "client"
      ? "  --client-index N            SFPROMPT_CLIENT_INDEX    this client's index (0-based)\n"
      : "";
  const server =
    role === "server"
      ? "  --execution-provider cuda|cpu SFPROMPT_EXECUTION_PROVIDER  override server.executionProvider\n" +
        "  SFPROMPT_STORE_RETRY_SECONDS / SFPROMPT_EVENT_RETRY_SECONDS  retry of writes / events while NATS is away (120 / 300)\n"
      : "";
  return (
    `usage: sfprompt-${role} [flags]   (every flag also reads the env var beside it)\n` +
    "  --config PATH               SFPROMPT_CONFIG, SFPROMPT_RUN_CONFIG   run config (YAML/JSON) or SFPromptJob manifest\n" +
    "  --nats-url URL              NATS_URL                 default: the run config's transport.url\n" +
    client +
    server +
    `  --http-host HOST            SFPROMPT_HTTP_HOST       default 0.0.0.0\n` +
    `  --http-port N               SFPROMPT_HTTP_PORT       default ${DEFAULT_HTTP_PORT}; 0 = any free port\n` +
    "  --log-level LEVEL           SFPROMPT_LOG_LEVEL       debug|info|warn|error (default info)\n" +
    `  --grace-seconds N           SFPROMPT_GRACE_SECONDS   shutdown allowance after SIGTERM (default ${DEFAULT_GRACE_SECONDS})\n` +
    `  --connect-timeout-seconds N SFPROMPT_CONNECT_TIMEOUT_SECONDS  first NATS connect (default ${DEFAULT_CONNECT_TIMEOUT_SECONDS})\n` +
    "  --credentials-dir DIR       SFPROMPT_CREDENTIALS_DIR NATS credentials: creds | user+password | token\n" +
    "  --bundle-dir DIR            SFPROMPT_BUNDLE_DIR      a prepared partition bundle (default: split the model here)\n" +
    "  --model-path FILE           SFPROMPT_MODEL_PATH      the ONNX model, overriding model.source\n" +
    "  --cache-dir DIR             SFPROMPT_CACHE_DIR       prepared bundles, demo model (default ~/.cache/sfprompt)\n" +
    "  --intra-op-threads N        SFPROMPT_INTRA_OP_THREADS  ORT threads per session (default 1)\n" +
    "  --linger-after-finish       SFPROMPT_LINGER_AFTER_FINISH=true  stay up after the job finished, until SIGTERM\n"
  );
}

/** Reads the settings of `role` from `argv` (without node and script) and `env`. */
export function readSettings(role: Role, argv: readonly string[], env: Env): ProcessSettings {
  const flags = parseFlags(argv);
  const pick = (flag: keyof typeof FLAGS, ...vars: string[]): string | undefined => {
    const v = flags[flag];
    if (typeof v === "string" && v !== "") return v;
    for (const name of vars) if (env[name] !== undefined && env[name] !== "") return env[name];
    return undefined;
  };
  const configPath = pick("config", "SFPROMPT_CONFIG", "SFPROMPT_RUN_CONFIG");
  if (configPath === undefined) {
    throw new SettingsError("--config / SFPROMPT_CONFIG", "no run config given; pass --config PATH");
  }
  const logLevel = pick("log-level", "SFPROMPT_LOG_LEVEL") ?? "info";
  if (!isLogLevel(logLevel)) {
    throw new SettingsError(
      "--log-level / SFPROMPT_LOG_LEVEL",
      `must be debug, info, warn or error (got "${logLevel}")`,
    );
  }
  const provider = role === "server" ? pick("execution-provider", "SFPROMPT_EXECUTION_PROVIDER") : undefined;
  if (provider !== undefined && provider !== "cuda" && provider !== "cpu") {
    throw new SettingsError(
      "--execution-provider / SFPROMPT_EXECUTION_PROVIDER",
      `must be cuda or cpu (got "${provider}")`,
    );
  }
  const clientIndexText = pick("client-index", "SFPROMPT_CLIENT_INDEX");
  if (role === "client" && clientIndexText === undefined) {
    throw new SettingsError(
      "--client-index / SFPROMPT_CLIENT_INDEX",
      "a client needs its index; pass --client-index N",
    );
  }
  const int = (
    text: string | undefined,
    setting: string,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number | undefined => (text === undefined ? undefined : parseInteger(text, setting, min, max));
  return {
    role,
    configPath,
    natsUrl: pick("nats-url", "NATS_URL"),
    clientIndex:
      role === "client" ? int(clientIndexText, "--client-index / SFPROMPT_CLIENT_INDEX", 0) : undefined,
    httpHost: pick("http-host", "SFPROMPT_HTTP_HOST") ?? "0.0.0.0",
    httpPort:
      int(pick("http-port", "SFPROMPT_HTTP_PORT"), "--http-port / SFPROMPT_HTTP_PORT", 0, 65535) ??
      DEFAULT_HTTP_PORT,
    logLevel,
    graceMs:
      1000 *
      (int(pick("grace-seconds", "SFPROMPT_GRACE_SECONDS"), "--grace-seconds / SFPROMPT_GRACE_SECONDS", 1) ??
        DEFAULT_GRACE_SECONDS),
    connectTimeoutMs:
      1000 *
      (int(
        pick("connect-timeout-seconds", "SFPROMPT_CONNECT_TIMEOUT_SECONDS"),
        "--connect-timeout-seconds / SFPROMPT_CONNECT_TIMEOUT_SECONDS",
        1,
      ) ?? DEFAULT_CONNECT_TIMEOUT_SECONDS),
    credentialsDir: pick("credentials-dir", "SFPROMPT_CREDENTIALS_DIR"),
    bundleDir: pick("bundle-dir", "SFPROMPT_BUNDLE_DIR"),
    modelPath: pick("model-path", "SFPROMPT_MODEL_PATH"),
    cacheDir: pick("cache-dir", "SFPROMPT_CACHE_DIR") ?? join(env.HOME || homedir(), ".cache", "sfprompt"),
    intraOpThreads: int(
      pick("intra-op-threads", "SFPROMPT_INTRA_OP_THREADS"),
      "--intra-op-threads / SFPROMPT_INTRA_OP_THREADS",
      1,
      1024,
    ),
    executionProvider: provider,
    expect: {
      job: env.SFPROMPT_JOB || undefined,
      namespace: env.SFPROMPT_NAMESPACE || undefined,
      subjectPrefix: env.SFPROMPT_SUBJECT_PREFIX || undefined,
      clientCount: int(env.SFPROMPT_CLIENT_COUNT || undefined, "SFPROMPT_CLIENT_COUNT", 1),
    },
    restartAttempt: int(env.SFPROMPT_RESTART_ATTEMPT || undefined, "SFPROMPT_RESTART_ATTEMPT", 0),
    nodeName: env.NODE_NAME || undefined,
    lingerAfterFinish: flags["linger-after-finish"] === true || bool(env.SFPROMPT_LINGER_AFTER_FINISH),
    storeRetryMs: seconds(env.SFPROMPT_STORE_RETRY_SECONDS, "SFPROMPT_STORE_RETRY_SECONDS"),
    eventRetryMs: seconds(env.SFPROMPT_EVENT_RETRY_SECONDS, "SFPROMPT_EVENT_RETRY_SECONDS"),
  };

  function seconds(text: string | undefined, setting: string): number | undefined {
    const n = int(text || undefined, setting, 1, 86_400);
    return n === undefined ? undefined : n * 1000;
  }
}

function bool(v: string | undefined): boolean {
  if (v === undefined || v === "" || v === "false" || v === "0") return false;
  if (v === "true" || v === "1") return true;
  throw new SettingsError("SFPROMPT_LINGER_AFTER_FINISH", `must be true or false, got "${v}"`);
}

/** True when `argv` asks for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

function parseFlags(argv: readonly string[]): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (cause) {
    throw new SettingsError("command line", `${(cause as Error).message}; see --help`, { cause });
  }
}

function parseInteger(text: string, setting: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new SettingsError(setting, `must be an integer in [${min}, ${max}] (got "${text}")`);
  }
  return n;
}
