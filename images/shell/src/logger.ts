// Structured logs of the server and client processes: one JSON object per line on stdout, with the
// job, client and round as fields. Same shape as @sfprompt/core's runtime Logger, so the runtime can
// log through it and the lines of a server and many clients merge and filter alike.

/** Severity of a log event, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** A structured log sink; `child` adds fields (job, client, round) to every event. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Events below this level are dropped (default info). */
  readonly level?: LogLevel;
  /** Where a line goes (default: stdout, which a container runtime collects). */
  readonly write?: (line: string) => void;
  /** Fields on every event. */
  readonly fields?: Record<string, unknown>;
  /** Clock, for tests. */
  readonly now?: () => Date;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** A logger writing JSON lines: `{"at","level","event",...fields}`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string): void => void process.stdout.write(`${line}\n`));
  const now = options.now ?? ((): Date => new Date());
  const base = options.fields ?? {};
  return {
    log(level, event, fields = {}) {
      if (ORDER[level] < min) return;
      const record = { at: now().toISOString(), level, event, ...base, ...fields };
      write(safeStringify(record));
    },
    child(fields) {
      return createLogger({ ...options, fields: { ...base, ...fields } });
    },
  };
}

// A log call must never throw (a cyclic or BigInt field would): fall back to a line that says so.
function safeStringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, replacer);
  } catch (error) {
    const { at, level, event } = record;
    return JSON.stringify({ at, level, event, logError: (error as Error).message });
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.cause !== undefined) out.cause = value.cause;
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}
