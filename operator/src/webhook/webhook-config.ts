// The webhook's flags and environment (flags win). main.ts takes the --webhook-* flags out of argv
// before the operator's own parser sees the rest, so the two configurations stay separate.
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";
import type { FlagSpec } from "../usage.js";
import { serviceHosts } from "./certs/webhook-certs.js";

export type CertSource =
  { mode: "generate"; secretNamespace: string; secretName: string } | { mode: "dir"; dir: string };

export interface WebhookConfig {
  enabled: boolean;
  host: string;
  port: number;
  certs: CertSource;
  /** DNS names/IPs the generated serving certificate covers. */
  hosts: string[];
  /** Webhook configurations whose caBundle the operator keeps equal to its CA (empty: none). */
  caBundle: { validating: string[]; mutating: string[] };
  /** How often certificates are re-read (rotation, another replica's new Secret). */
  refreshMs: number;
  /** Pause before retrying a failed caBundle patch. */
  retryMs: number;
}

/** Every webhook flag: its variable, its default (parsed like a value) and its --help line. */
export const WEBHOOK_FLAG_TABLE = {
  webhook: {
    env: "SFPROMPT_WEBHOOK_ENABLED",
    default: "false",
    help: "Serve the mutating and validating admission webhook: true or false.",
  },
  "webhook-host": {
    env: "SFPROMPT_WEBHOOK_HOST",
    default: "0.0.0.0",
    help: "Address the webhook listens on (TLS).",
  },
  "webhook-port": {
    env: "SFPROMPT_WEBHOOK_PORT",
    default: "9443",
    help: "Port the webhook listens on (TLS).",
  },
  "webhook-cert-mode": {
    env: "SFPROMPT_WEBHOOK_CERT_MODE",
    default: "generate",
    help: "generate: make a CA and serving certificate in a Secret; dir: read tls.crt and tls.key from a folder.",
  },
  "webhook-cert-dir": {
    env: "SFPROMPT_WEBHOOK_CERT_DIR",
    default: "/etc/sfprompt/webhook-certs",
    help: "The folder --webhook-cert-mode dir reads.",
  },
  "webhook-cert-secret": {
    env: "SFPROMPT_WEBHOOK_CERT_SECRET",
    default: "",
    defaultText: "<--webhook-service>-cert",
    help: "The Secret --webhook-cert-mode generate writes.",
  },
  "webhook-namespace": {
    env: "POD_NAMESPACE",
    default: "sfprompt-system",
    help: "Namespace of the webhook's Service and certificate Secret.",
  },
  "webhook-service": {
    env: "SFPROMPT_WEBHOOK_SERVICE",
    default: "sfprompt-operator-webhook",
    help: "The Service the API server calls: the certificate's DNS names.",
  },
  "webhook-extra-hosts": {
    env: "SFPROMPT_WEBHOOK_EXTRA_HOSTS",
    default: "",
    defaultText: "none",
    help: "More DNS names or IPs for the certificate, comma-separated.",
  },
  "webhook-validating-configurations": {
    env: "SFPROMPT_WEBHOOK_VALIDATING_CONFIGURATIONS",
    default: "",
    defaultText: "none",
    help: "ValidatingWebhookConfigurations whose caBundle is kept equal to the CA, comma-separated.",
  },
  "webhook-mutating-configurations": {
    env: "SFPROMPT_WEBHOOK_MUTATING_CONFIGURATIONS",
    default: "",
    defaultText: "none",
    help: "MutatingWebhookConfigurations whose caBundle is kept equal to the CA, comma-separated.",
  },
  "webhook-refresh-seconds": {
    env: "SFPROMPT_WEBHOOK_REFRESH_SECONDS",
    default: "3600",
    help: "How often the certificate is loaded again and the caBundles patched.",
  },
} as const satisfies Record<string, FlagSpec>;
type Flag = keyof typeof WEBHOOK_FLAG_TABLE;
const OPTIONS: Readonly<Record<Flag, FlagSpec>> = WEBHOOK_FLAG_TABLE;

export const WEBHOOK_FLAGS: readonly string[] = Object.keys(OPTIONS).map((k) => `--${k}`);

/** Splits argv into the --webhook* flags (with their values) and everything else. */
export function splitWebhookArgs(argv: readonly string[]): { webhook: string[]; rest: string[] } {
  const webhook: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = arg.split("=")[0]!;
    if (!(flag.slice(2) in OPTIONS) || !arg.startsWith("--")) {
      rest.push(arg);
      continue;
    }
    webhook.push(arg);
    if (!arg.includes("=") && i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) webhook.push(argv[++i]!);
  }
  return { webhook, rest };
}

const list = (raw: string): string[] =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function seconds(flag: Flag, raw: string, min: number): number {
  const n = Number(raw);
  if (raw === "" || !Number.isInteger(n) || n < min)
    throw new ConfigError(
      `--${flag}`,
      `must be an integer ≥ ${min} (got ${JSON.stringify(raw)}; env ${OPTIONS[flag].env})`,
    );
  return n;
}

/** Reads the webhook configuration from its flags (see splitWebhookArgs) and `env`. Throws ConfigError. */
export function parseWebhookConfig(argv: string[], env: Record<string, string | undefined>): WebhookConfig {
  const options = Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: "string" as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (cause) {
    throw new ConfigError("flags", `${(cause as Error).message}; webhook flags: ${WEBHOOK_FLAGS.join(" ")}`);
  }
  const get = (f: Flag): string | undefined => (values[f] as string | undefined) ?? env[OPTIONS[f].env];
  // Unset or empty: the table's default.
  const or = (f: Flag): string => get(f) || OPTIONS[f].default;
  const enabled = get("webhook") ?? OPTIONS.webhook.default;
  if (enabled !== "true" && enabled !== "false")
    throw new ConfigError("--webhook", `must be true or false (got ${JSON.stringify(enabled)})`);
  const mode = or("webhook-cert-mode");
  if (mode !== "generate" && mode !== "dir")
    throw new ConfigError("--webhook-cert-mode", `must be generate or dir (got ${JSON.stringify(mode)})`);
  const namespace = or("webhook-namespace");
  const service = or("webhook-service");
  return {
    enabled: enabled === "true",
    host: or("webhook-host"),
    port: seconds("webhook-port", or("webhook-port"), 0),
    certs:
      mode === "generate"
        ? { mode, secretNamespace: namespace, secretName: or("webhook-cert-secret") || `${service}-cert` }
        : { mode, dir: or("webhook-cert-dir") },
    hosts: [...serviceHosts(service, namespace), ...list(or("webhook-extra-hosts"))],
    caBundle: {
      validating: list(or("webhook-validating-configurations")),
      mutating: list(or("webhook-mutating-configurations")),
    },
    refreshMs: seconds("webhook-refresh-seconds", or("webhook-refresh-seconds"), 1) * 1000,
    retryMs: 5000,
  };
}
