#!/usr/bin/env node
// A server or client process of a local `sfprompt run`: `main.js server CONFIG` or
// `main.js client CONFIG INDEX`. It runs the same in-process entry points as the images, with JSON
// logs on stderr, and stops cleanly (NATS drained) on SIGTERM, SIGINT and SIGHUP.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jsonLogger } from "@sfprompt/core";
import { jobInputErrorOf } from "./input-error.js";
import { ProcessConfigError, readProcessConfig, type ProcessConfig } from "./process-config.js";
import { runRole } from "./roles.js";

async function main(argv: readonly string[]): Promise<number> {
  const [role, configPath, index] = argv;
  if ((role !== "server" && role !== "client") || configPath === undefined) {
    process.stderr.write("usage: main.js server CONFIG | main.js client CONFIG INDEX\n");
    return 2;
  }
  const config = configOf(role, configPath);
  if (config === undefined) return 1;
  const logger = jsonLogger({ fields: { job: config.runConfig.names.job } });
  const abort = new AbortController();
  const stop = (signal: string): void => {
    logger.log("info", "process.signal", { signal });
    abort.abort();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  // a closed terminal's SIGHUP reaches the whole foreground job, this process included: stop as the
  // CLI does (whose SIGTERM follows), rather than die where it stands, mid-checkpoint
  process.once("SIGHUP", () => stop("SIGHUP"));
  watchParent(stop);
  const nc = await connect({
    servers: config.natsUrl,
    name: `sfprompt-${role}${index === undefined ? "" : `-${index}`}`,
    // as the images do: a NATS server that restarts (--nats URL) is waited for, however long; with
    // nats.js's default (10 attempts) the connection closed for good and the process went on deaf
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
  });
  try {
    await runRole({ role, config, index: Number(index ?? 0), nc, logger, signal: abort.signal });
    return 0;
  } catch (error) {
    if (abort.signal.aborted) return 0;
    const input = jobInputErrorOf(error);
    if (input !== undefined) {
      // as the images log it: the job's field, and no stack (the job is to change, not the code)
      logger.log("error", "config.invalid", { role, field: input.field, error: input.message });
      return 1;
    }
    logger.log("error", "process.failed", { role, error: String((error as Error).stack ?? error) });
    return 1;
  } finally {
    await closeNats(nc);
  }
}

/**
 * The process's config file, or undefined when it cannot be used: then logged as `config.invalid`
 * naming the file and its field, as the images log a run config they cannot use (no stack: the
 * file is what is wrong, and `sfprompt run` quotes the line).
 */
function configOf(role: string, path: string): ProcessConfig | undefined {
  try {
    return readProcessConfig(path);
  } catch (error) {
    if (!(error instanceof ProcessConfigError)) throw error;
    jsonLogger().log("error", "config.invalid", { role, path, field: error.field, error: error.message });
    return undefined;
  }
}

/** How long a parent-less process may take to stop before it exits anyway. */
const ORPHAN_EXIT_MS = 10_000;
/** How long draining may take: a nats-server that is gone (Ctrl-C reaches it too) never answers. */
const DRAIN_MS = 3000;

/**
 * Under `sfprompt run` (which opens an IPC channel to its children) stops this process when the
 * run goes away without stopping it (killed, crashed), so no server or client outlives it. The
 * images have no such channel.
 */
function watchParent(stop: (why: string) => void): void {
  if (process.channel === undefined) return;
  process.channel.unref(); // the channel alone must not keep the process alive
  process.once("disconnect", () => {
    stop("parent-exited");
    setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
  });
}

async function closeNats(nc: NatsConnection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)));
  await Promise.race([nc.drain().catch(() => undefined), late]);
  clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}

process.exitCode = await main(process.argv.slice(2));
