#!/usr/bin/env node
// Entry point of the operator container: read the config (or print the usage for --help), run until
// SIGTERM/SIGINT, then shut down gracefully. Exits non-zero on a bad config or when leadership is lost (the pod restarts and campaigns
// again, as client-go based operators do).
import { KubeConfig } from "@kubernetes/client-node";
import { OPERATOR_FLAG_TABLE, parseConfig } from "./config.js";
import { ConfigError } from "./errors.js";
import { createLogger } from "./log.js";
import { startOperator } from "./operator.js";
import { helpRequested, usage } from "./usage.js";
import { WEBHOOK_FLAG_TABLE, parseWebhookConfig, splitWebhookArgs, startWebhook } from "./webhook/index.js";

const SUMMARY =
  "Runs the SFPrompt operator: reconciles SFPromptJobs, and with --webhook true serves their admission\n" +
  "webhook. Each flag can be given by its environment variable instead; a flag wins. See docs/operator.md.";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (helpRequested(argv)) {
    process.stdout.write(
      usage("sfprompt-operator", SUMMARY, [
        { title: "Operator flags", flags: OPERATOR_FLAG_TABLE },
        { title: "Admission webhook flags", flags: WEBHOOK_FLAG_TABLE },
      ]),
    );
    return;
  }
  let config;
  let webhookConfig;
  try {
    const args = splitWebhookArgs(argv);
    config = parseConfig(args.rest, process.env);
    webhookConfig = parseWebhookConfig(args.webhook, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      `${JSON.stringify({ level: "error", msg: "invalid configuration", err: err.message })}\n`,
    );
    process.exit(2);
  }
  const log = createLogger({ level: config.logLevel });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  // Every replica serves the webhook, leader or not: the Service may pick any of them.
  const webhook = webhookConfig.enabled ? await startWebhook(webhookConfig, { kubeConfig, log }) : undefined;
  const operator = await startOperator(config, {
    kubeConfig,
    log,
    onLostLeadership: () => {
      log.error("lost leadership; exiting so that the pod restarts and campaigns again");
      process.exit(1);
    },
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    Promise.all([operator.stop(), webhook?.stop()]).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("shutdown failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: "error", msg: "operator failed", err: String(err) })}\n`);
  process.exit(1);
});
