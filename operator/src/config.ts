// The operator's configuration from flags and environment (flags win), with defaults that fit a k3s
// install of the Helm chart. Every value is checked here, so a bad flag stops the process at start.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { DEFAULT_CHILD_SETTINGS, type ChildSettings } from "./desired/settings.js";
import { ConfigError } from "./errors.js";
import type { Level } from "./log.js";
import type { FlagSpec } from "./usage.js";

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
  /**
   * The pod that carries the leader label while this process leads (ADR 0023, amendment 3): its
   * name and namespace from POD_NAME and POD_NAMESPACE, and the selector of the release's operator
   * pods, among which only the leader's keeps the label. Undefined: no pod is labelled.
   */
  leaderPod: { name: string; namespace: string; selector: string } | undefined;
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

const d = DEFAULT_CHILD_SETTINGS;
const seconds = (ms: number): string => String(ms / 1000);

/** Every operator flag: its variable, its default (parsed like a value) and its --help line. */
export const OPERATOR_FLAG_TABLE = {
  namespaces: {
    env: "SFPROMPT_WATCH_NAMESPACES",
    default: "",
    defaultText: "all namespaces",
    help: "Comma-separated namespaces to watch.",
  },
  "server-image": {
    env: "SFPROMPT_SERVER_IMAGE",
    default: d.serverImage,
    help: "Image of the server process.",
  },
  "gpu-server-image": {
    env: "SFPROMPT_GPU_SERVER_IMAGE",
    default: d.gpuServerImage,
    defaultText: "none (--server-image)",
    help: "Server image for jobs with spec.server.gpus > 0 (ONNX Runtime with CUDA).",
  },
  "client-image": {
    env: "SFPROMPT_CLIENT_IMAGE",
    default: d.clientImage,
    help: "Image of the client processes.",
  },
  "image-pull-policy": {
    env: "SFPROMPT_IMAGE_PULL_POLICY",
    default: d.imagePullPolicy,
    help: "Pull policy of the job's images: Always, IfNotPresent or Never.",
  },
  "nats-url": {
    env: "SFPROMPT_NATS_URL",
    default: d.natsUrl,
    help: "NATS for jobs without spec.transport.url.",
  },
  "edge-node-label": {
    env: "SFPROMPT_EDGE_NODE_LABEL",
    default: d.edgeNodeLabel,
    help: "Node label client pods require; empty: no default edge pinning.",
  },
  "client-restart-limit": {
    env: "SFPROMPT_CLIENT_RESTART_LIMIT",
    default: String(d.clientRestart.limit),
    help: "Replacements of a failed client pod, per client.",
  },
  "client-restart-base-seconds": {
    env: "SFPROMPT_CLIENT_RESTART_BASE_SECONDS",
    default: seconds(d.clientRestart.baseMs),
    help: "First delay before a failed client pod is replaced (doubles each time).",
  },
  "client-restart-max-seconds": {
    env: "SFPROMPT_CLIENT_RESTART_MAX_SECONDS",
    default: seconds(d.clientRestart.maxMs),
    help: "Longest delay before a failed client pod is replaced.",
  },
  "finished-client-grace-seconds": {
    env: "SFPROMPT_FINISHED_CLIENT_GRACE_SECONDS",
    default: seconds(d.finishedClientGraceMs),
    help: "How long a Succeeded job's running client pods are left to exit by themselves.",
  },
  "leader-elect": {
    env: "SFPROMPT_LEADER_ELECT",
    default: "true",
    help: "Lease-based leader election: true or false.",
  },
  "lease-name": { env: "SFPROMPT_LEASE_NAME", default: "sfprompt-operator", help: "Name of the Lease." },
  "lease-namespace": {
    env: "SFPROMPT_LEASE_NAMESPACE",
    thenEnv: "POD_NAMESPACE",
    default: "sfprompt-system",
    help: "Namespace of the Lease.",
  },
  "lease-duration-seconds": {
    env: "SFPROMPT_LEASE_DURATION_SECONDS",
    default: "15",
    help: "Lease duration; the renew deadline is 2/3 of it.",
  },
  identity: {
    env: "POD_NAME",
    default: "",
    defaultText: "<hostname>-<pid>",
    help: "Lease holder identity.",
  },
  "leader-pod-selector": {
    env: "SFPROMPT_LEADER_POD_SELECTOR",
    default: "",
    defaultText: "none: no pod label",
    help: "Selector (k=v,...) of this release's operator pods; the leader labels its own pod (POD_NAME in POD_NAMESPACE) sfprompt.io/operator-role=leader and clears that label from the others.",
  },
  "http-host": {
    env: "SFPROMPT_HTTP_HOST",
    default: "0.0.0.0",
    help: "Address of /healthz, /readyz, /metrics.",
  },
  "metrics-port": {
    env: "SFPROMPT_METRICS_PORT",
    default: "8081",
    help: "Port of /healthz, /readyz, /metrics.",
  },
  workers: { env: "SFPROMPT_WORKERS", default: "2", help: "Concurrent reconciles (never two for one job)." },
  "resync-seconds": {
    env: "SFPROMPT_RESYNC_SECONDS",
    default: "300",
    help: "Every job is reconciled at least this often.",
  },
  "nats-cleanup-timeout-seconds": {
    env: "SFPROMPT_NATS_CLEANUP_TIMEOUT_SECONDS",
    default: "300",
    help: "When the finalizer gives up removing a deleted job's NATS resources.",
  },
  "log-level": {
    env: "SFPROMPT_LOG_LEVEL",
    default: "info",
    help: "debug, info, warn or error (JSON lines on stderr).",
  },
} as const satisfies Record<string, FlagSpec>;
type Flag = keyof typeof OPERATOR_FLAG_TABLE;
const OPTIONS: Readonly<Record<Flag, FlagSpec>> = OPERATOR_FLAG_TABLE;

/** Every operator flag (the webhook's are WEBHOOK_FLAGS), as docs/operator.md lists them. */
export const OPERATOR_FLAGS: readonly string[] = Object.keys(OPTIONS).map((k) => `--${k}`);

function number(flag: Flag, raw: string, min: number): number {
  const n = Number(raw);
  if (raw === "" || !Number.isFinite(n) || n < min) {
    throw new ConfigError(
      `--${flag}`,
      `must be a number ≥ ${min} (got ${JSON.stringify(raw)}; env ${OPTIONS[flag].env})`,
    );
  }
  return n;
}

function oneOf<T extends string>(flag: Flag, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`--${flag}`, `must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
  }
  return raw as T;
}

// Equality requirements only: the leader lists the pods with them plus its label.
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function leaderPod(selector: string, env: Record<string, string | undefined>): OperatorConfig["leaderPod"] {
  if (selector === "") return undefined;
  const bad = selector.split(",").find((part) => {
    const [key = "", value, extra] = part.split("=");
    return extra !== undefined || value === undefined || !LABEL_KEY.test(key) || !LABEL_VALUE.test(value);
  });
  if (bad !== undefined) {
    throw new ConfigError(
      "--leader-pod-selector",
      `must be label=value pairs separated by commas (got ${JSON.stringify(bad)} in ${JSON.stringify(selector)}; env ${OPTIONS["leader-pod-selector"].env})`,
    );
  }
  const name = env.POD_NAME ?? "";
  const namespace = env.POD_NAMESPACE ?? "";
  if (name === "" || namespace === "") {
    throw new ConfigError(
      "--leader-pod-selector",
      "needs POD_NAME and POD_NAMESPACE naming this process's own pod (set them with the Downward API, as the chart does), or leave the selector empty",
    );
  }
  return { name, namespace, selector };
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
      `${(cause as Error).message}; known flags: ${OPERATOR_FLAGS.join(" ")} (--help describes them)`,
    );
  }
  const get = (f: Flag): string | undefined => (values[f] as string | undefined) ?? env[OPTIONS[f].env];
  // Unset or empty: the second variable, then the table's default.
  const or = (f: Flag): string => {
    const then = OPTIONS[f].thenEnv;
    return get(f) || (then !== undefined ? env[then] : undefined) || OPTIONS[f].default;
  };
  const leaseMs = number("lease-duration-seconds", or("lease-duration-seconds"), 1) * 1000;
  return {
    namespaces: or("namespaces")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    children: {
      serverImage: or("server-image"),
      gpuServerImage: or("gpu-server-image"),
      clientImage: or("client-image"),
      imagePullPolicy: oneOf("image-pull-policy", or("image-pull-policy"), [
        "Always",
        "IfNotPresent",
        "Never",
      ] as const),
      natsUrl: or("nats-url"),
      // An explicitly empty label turns the default pinning off.
      edgeNodeLabel: get("edge-node-label") ?? OPTIONS["edge-node-label"].default,
      clientRestart: {
        limit: number("client-restart-limit", or("client-restart-limit"), 0),
        baseMs: number("client-restart-base-seconds", or("client-restart-base-seconds"), 0) * 1000,
        maxMs: number("client-restart-max-seconds", or("client-restart-max-seconds"), 0) * 1000,
      },
      finishedClientGraceMs:
        number("finished-client-grace-seconds", or("finished-client-grace-seconds"), 0) * 1000,
    },
    leaderElection: {
      enabled: oneOf("leader-elect", or("leader-elect"), ["true", "false"] as const) === "true",
      namespace: or("lease-namespace"),
      name: or("lease-name"),
      identity: or("identity") || `${hostname()}-${process.pid}`,
      leaseDurationMs: leaseMs,
      renewDeadlineMs: Math.round(leaseMs * (2 / 3)),
      retryPeriodMs: Math.max(200, Math.round(leaseMs / 7.5)),
    },
    leaderPod: leaderPod(or("leader-pod-selector"), env),
    http: { host: or("http-host"), port: number("metrics-port", or("metrics-port"), 0) },
    workers: number("workers", or("workers"), 1),
    resyncMs: number("resync-seconds", or("resync-seconds"), 1) * 1000,
    queue: { baseMs: 500, maxMs: 300_000, qps: 10, burst: 100 },
    retryMs: 5000,
    finalizer: {
      attemptTimeoutMs: 10_000,
      giveUpAfterMs: number("nats-cleanup-timeout-seconds", or("nats-cleanup-timeout-seconds"), 0) * 1000,
    },
    logLevel: oneOf("log-level", or("log-level"), ["debug", "info", "warn", "error"] as const),
  };
}
