// Structured logs: one JSON object per line on stderr, with job, namespace and round as fields.

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  with(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go (default: process.stderr). */
  write?: (line: string) => void;
}

function serializable(v: unknown): unknown {
  return v instanceof Error
    ? { name: v.name, message: v.message, ...(v.cause ? { cause: serializable(v.cause) } : {}) }
    : v;
}

export function createLogger(opts: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: Level, msg: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[level] < min) return;
    const entries = Object.entries({ ...base, ...fields }).map(([k, v]) => [k, serializable(v)]);
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...Object.fromEntries(entries) })}\n`,
    );
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}
