// Structured logs: one JSON object per line with the job, client and round as fields, so the logs of
// a server and many clients can be merged and filtered.
import type { ObserverError, ObserverErrorSink } from "@sfprompt/protocol";

/** Severity of a log event. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured log sink; `child` adds fields (job, client, round) to every event. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes JSON lines through `write` (default: stderr), dropping events below `level`. */
export function jsonLogger(
  options: {
    level?: LogLevel;
    write?: (line: string) => void;
    fields?: Record<string, unknown>;
  } = {},
): Logger {
  const min = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};
  return {
    log(level, event, fields = {}) {
      if (ORDER[level] < min) return;
      write(
        JSON.stringify({ at: new Date().toISOString(), level, event, ...base, ...fields }, errorReplacer),
      );
    },
    child(fields) {
      return jsonLogger({ ...options, fields: { ...base, ...fields } });
    },
  };
}

/**
 * A responder's `log` option (serveFrames) writing to `logger`: each event at its own level when it
 * says "error" (observer-failed), else at warn (bad frames, refusals), its fields as the responder gave them.
 */
export function responderLog(logger: Logger): (event: Record<string, unknown>) => void {
  return (e) => logger.log(e.level === "error" ? "error" : "warn", String(e.event), e);
}

/**
 * Where the data plane reports a metrics hook that threw (ADR 0017, amendment 4): an `observer-failed`
 * line in `logger` (level error, `hook` and what it threw), as a responder's log has it, instead of a
 * process warning on stderr outside the structured log.
 */
export function observerErrorsTo(logger: Logger): ObserverErrorSink {
  return (error: ObserverError) =>
    logger.log("error", "observer-failed", { hook: error.hook, error: String(error.cause) });
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  log() {},
  child() {
    return silentLogger;
  },
};

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
