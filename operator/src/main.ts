// Entry point of the operator container: read the config, run until SIGTERM/SIGINT, then shut down
// gracefully. Exits non-zero on a bad config or when leadership is lost (the pod restarts and campaigns
// again, as client-go based operators do).
import { parseConfig } from "./config.js";
import { ConfigError } from "./errors.js";
import { createLogger } from "./log.js";
import { startOperator } from "./operator.js";

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      `${JSON.stringify({ level: "error", msg: "invalid configuration", err: err.message })}\n`,
    );
    process.exit(2);
  }
  const log = createLogger({ level: config.logLevel });
  const operator = await startOperator(config, {
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
    operator.stop().then(
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
