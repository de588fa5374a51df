// The webhook's flags and environment (flags win). main.ts takes the --webhook-* flags out of argv
// before the operator's own parser sees the rest, so the two configurations stay separate.
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";
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

const OPTIONS = {
  webhook: { env: "SFPROMPT_WEBHOOK_ENABLED" },
  "webhook-host": { env: "SFPROMPT_WEBHOOK_HOST" },
  "webhook-port": { env: "SFPROMPT_WEBHOOK_PORT" },
  "webhook-cert-mode": { env: "SFPROMPT_WEBHOOK_CERT_MODE" },
  "webhook-cert-dir": { env: "SFPROMPT_WEBHOOK_CERT_DIR" },
  "webhook-cert-secret": { env: "SFPROMPT_WEBHOOK_CERT_SECRET" },
  "webhook-namespace": { env: "POD_NAMESPACE" },
  "webhook-service": { env: "SFPROMPT_WEBHOOK_SERVICE" },
  "webhook-extra-hosts": { env: "SFPROMPT_WEBHOOK_EXTRA_HOSTS" },
  "webhook-validating-configurations": { env: "SFPROMPT_WEBHOOK_VALIDATING_CONFIGURATIONS" },
  "webhook-mutating-configurations": { env: "SFPROMPT_WEBHOOK_MUTATING_CONFIGURATIONS" },
  "webhook-refresh-seconds": { env: "SFPROMPT_WEBHOOK_REFRESH_SECONDS" },
} as const;
type Flag = keyof typeof OPTIONS;

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

const list = (raw: string | undefined): string[] =>
  (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function seconds(flag: Flag, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
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
  const enabled = get("webhook") ?? "false";
  if (enabled !== "true" && enabled !== "false")
    throw new ConfigError("--webhook", `must be true or false (got ${JSON.stringify(enabled)})`);
  const mode = get("webhook-cert-mode") || "generate";
  if (mode !== "generate" && mode !== "dir")
    throw new ConfigError("--webhook-cert-mode", `must be generate or dir (got ${JSON.stringify(mode)})`);
  const namespace = get("webhook-namespace") || "sfprompt-system";
  const service = get("webhook-service") || "sfprompt-operator-webhook";
  return {
    enabled: enabled === "true",
    host: get("webhook-host") || "0.0.0.0",
    port: seconds("webhook-port", get("webhook-port"), 9443, 0),
    certs:
      mode === "generate"
        ? { mode, secretNamespace: namespace, secretName: get("webhook-cert-secret") || `${service}-cert` }
        : { mode, dir: get("webhook-cert-dir") || "/etc/sfprompt/webhook-certs" },
    hosts: [...serviceHosts(service, namespace), ...list(get("webhook-extra-hosts"))],
    caBundle: {
      validating: list(get("webhook-validating-configurations")),
      mutating: list(get("webhook-mutating-configurations")),
    },
    refreshMs: seconds("webhook-refresh-seconds", get("webhook-refresh-seconds"), 3600, 1) * 1000,
    retryMs: 5000,
  };
}
