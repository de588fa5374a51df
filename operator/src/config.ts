// The operator's configuration from flags and environment (flags win), with defaults that fit a k3s
// install of the Helm chart. Every value is checked here, so a bad flag stops the process at start.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { DEFAULT_CHILD_SETTINGS, type ChildSettings } from "./desired/settings.js";
import { ConfigError } from "./errors.js";
import type { Level } from "./log.js";

export interface OperatorConfig {
  /** Namespaces to watch; empty: all. */
  namespaces: string[];
  children: ChildSettings;
  leaderElection: {
    enabled: boolean;
    namespace: string;
    name: string;
    identity: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  http: { host: string; port: number };
  workers: number;
  /** Every job is reconciled at least this often, even without events. */
  resyncMs: number;
  queue: { baseMs: number; maxMs: number; qps: number; burst: number };
  /** Pause before retrying NATS (progress stream) and before relisting after a failed watch. */
  retryMs: number;
  finalizer: { attemptTimeoutMs: number; giveUpAfterMs: number };
  logLevel: Level;
}

/** Flag name → environment variable; `type` is for parseArgs. */
const OPTIONS = {
  namespaces: { env: "SFPROMPT_WATCH_NAMESPACES", type: "string" },
  "server-image": { env: "SFPROMPT_SERVER_IMAGE", type: "string" },
  "gpu-server-image": { env: "SFPROMPT_GPU_SERVER_IMAGE", type: "string" },
  "client-image": { env: "SFPROMPT_CLIENT_IMAGE", type: "string" },
  "image-pull-policy": { env: "SFPROMPT_IMAGE_PULL_POLICY", type: "string" },
  "nats-url": { env: "SFPROMPT_NATS_URL", type: "string" },
  "edge-node-label": { env: "SFPROMPT_EDGE_NODE_LABEL", type: "string" },
  "client-restart-limit": { env: "SFPROMPT_CLIENT_RESTART_LIMIT", type: "string" },
  "client-restart-base-seconds": { env: "SFPROMPT_CLIENT_RESTART_BASE_SECONDS", type: "string" },
  "client-restart-max-seconds": { env: "SFPROMPT_CLIENT_RESTART_MAX_SECONDS", type: "string" },
  "finished-client-grace-seconds": { env: "SFPROMPT_FINISHED_CLIENT_GRACE_SECONDS", type: "string" },
  "leader-elect": { env: "SFPROMPT_LEADER_ELECT", type: "string" },
  "lease-name": { env: "SFPROMPT_LEASE_NAME", type: "string" },
  "lease-namespace": { env: "SFPROMPT_LEASE_NAMESPACE", type: "string" },
  "lease-duration-seconds": { env: "SFPROMPT_LEASE_DURATION_SECONDS", type: "string" },
  identity: { env: "POD_NAME", type: "string" },
  "http-host": { env: "SFPROMPT_HTTP_HOST", type: "string" },
  "metrics-port": { env: "SFPROMPT_METRICS_PORT", type: "string" },
  workers: { env: "SFPROMPT_WORKERS", type: "string" },
  "resync-seconds": { env: "SFPROMPT_RESYNC_SECONDS", type: "string" },
  "nats-cleanup-timeout-seconds": { env: "SFPROMPT_NATS_CLEANUP_TIMEOUT_SECONDS", type: "string" },
  "log-level": { env: "SFPROMPT_LOG_LEVEL", type: "string" },
} as const;
type Flag = keyof typeof OPTIONS;

/** Every operator flag (the webhook's are WEBHOOK_FLAGS), as docs/operator.md lists them. */
export const OPERATOR_FLAGS: readonly string[] = Object.keys(OPTIONS).map((k) => `--${k}`);

function number(flag: Flag, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    throw new ConfigError(
      `--${flag}`,
      `must be a number ≥ ${min} (got ${JSON.stringify(raw)}; env ${OPTIONS[flag].env})`,
    );
  }
  return n;
}

function oneOf<T extends string>(flag: Flag, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined || raw === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`--${flag}`, `must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
  }
  return raw as T;
}

/** Reads the configuration from `argv` (without node and script) and `env`. Throws ConfigError. */
export function parseConfig(argv: string[], env: Record<string, string | undefined>): OperatorConfig {
  const options = Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: "string" as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (cause) {
    throw new ConfigError(
      "flags",
      `${(cause as Error).message}; known flags: ${Object.keys(OPTIONS)
        .map((k) => `--${k}`)
        .join(" ")}`,
    );
  }
  const get = (f: Flag): string | undefined => (values[f] as string | undefined) ?? env[OPTIONS[f].env];
  const d = DEFAULT_CHILD_SETTINGS;
  const leaseMs = number("lease-duration-seconds", get("lease-duration-seconds"), 15, 1) * 1000;
  return {
    namespaces: (get("namespaces") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    children: {
      serverImage: get("server-image") || d.serverImage,
      gpuServerImage: get("gpu-server-image") || d.gpuServerImage,
      clientImage: get("client-image") || d.clientImage,
      imagePullPolicy: oneOf(
        "image-pull-policy",
        get("image-pull-policy"),
        ["Always", "IfNotPresent", "Never"] as const,
        d.imagePullPolicy,
      ),
      natsUrl: get("nats-url") || d.natsUrl,
      // An explicitly empty label turns the default pinning off.
      edgeNodeLabel: get("edge-node-label") ?? d.edgeNodeLabel,
      clientRestart: {
        limit: number("client-restart-limit", get("client-restart-limit"), d.clientRestart.limit, 0),
        baseMs:
          number(
            "client-restart-base-seconds",
            get("client-restart-base-seconds"),
            d.clientRestart.baseMs / 1000,
            0,
          ) * 1000,
        maxMs:
          number(
            "client-restart-max-seconds",
            get("client-restart-max-seconds"),
            d.clientRestart.maxMs / 1000,
            0,
          ) * 1000,
      },
      finishedClientGraceMs:
        number(
          "finished-client-grace-seconds",
          get("finished-client-grace-seconds"),
          d.finishedClientGraceMs / 1000,
          0,
        ) * 1000,
    },
    leaderElection: {
      enabled: oneOf("leader-elect", get("leader-elect"), ["true", "false"] as const, "true") === "true",
      namespace: get("lease-namespace") || env.POD_NAMESPACE || "sfprompt-system",
      name: get("lease-name") || "sfprompt-operator",
      identity: get("identity") || `${hostname()}-${process.pid}`,
      leaseDurationMs: leaseMs,
      renewDeadlineMs: Math.round(leaseMs * (2 / 3)),
      retryPeriodMs: Math.max(200, Math.round(leaseMs / 7.5)),
    },
    http: { host: get("http-host") || "0.0.0.0", port: number("metrics-port", get("metrics-port"), 8081, 0) },
    workers: number("workers", get("workers"), 2, 1),
    resyncMs: number("resync-seconds", get("resync-seconds"), 300, 1) * 1000,
    queue: { baseMs: 500, maxMs: 300_000, qps: 10, burst: 100 },
    retryMs: 5000,
    finalizer: {
      attemptTimeoutMs: 10_000,
      giveUpAfterMs:
        number("nats-cleanup-timeout-seconds", get("nats-cleanup-timeout-seconds"), 300, 0) * 1000,
    },
    logLevel: oneOf("log-level", get("log-level"), ["debug", "info", "warn", "error"] as const, "info"),
  };
}
