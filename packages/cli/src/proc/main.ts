#!/usr/bin/env node
// A server or client process of a local `sfprompt run`: `main.js server CONFIG` or
// `main.js client CONFIG INDEX`. It runs the same in-process entry points as the images, with JSON
// logs on stderr, and stops cleanly (NATS drained) on SIGTERM/SIGINT.
import { connect } from "@nats-io/transport-node";
import { jsonLogger } from "@sfprompt/core";
import { readProcessConfig } from "./process-config.js";
import { runRole } from "./roles.js";

async function main(argv: readonly string[]): Promise<number> {
  const [role, configPath, index] = argv;
  if ((role !== "server" && role !== "client") || configPath === undefined) {
    process.stderr.write("usage: main.js server CONFIG | main.js client CONFIG INDEX\n");
    return 2;
  }
  const config = readProcessConfig(configPath);
  const logger = jsonLogger({ fields: { job: config.runConfig.names.job } });
  const abort = new AbortController();
  const stop = (signal: string): void => {
    logger.log("info", "process.signal", { signal });
    abort.abort();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  const nc = await connect({
    servers: config.natsUrl,
    name: `sfprompt-${role}${index === undefined ? "" : `-${index}`}`,
  });
  try {
    await runRole({ role, config, index: Number(index ?? 0), nc, logger, signal: abort.signal });
    return 0;
  } catch (error) {
    if (abort.signal.aborted) return 0;
    logger.log("error", "process.failed", { role, error: String((error as Error).stack ?? error) });
    return 1;
  } finally {
    await nc.drain().catch(() => undefined);
  }
}

process.exitCode = await main(process.argv.slice(2));
