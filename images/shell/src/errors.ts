// Typed errors of the process shell: one class per failure kind, each naming the flag, env var or
// config field at fault and what to do. The exit code follows from the class (exit-codes.ts).
import { specFieldOf } from "./spec-field.js";

/** A flag or environment variable is missing or invalid. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
  constructor(
    /** The flag and/or env var, e.g. "--client-index / SFPROMPT_CLIENT_INDEX". */
    readonly setting: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${setting}: ${message}`, options);
  }
}

/**
 * The run config file cannot be read, parsed or validated. It names the job's field the bad one was
 * made from first, as the job's author wrote it, then the run config's own.
 */
export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
  /** The job's field that `field` was made from (spec-field.ts); undefined: none, or `field` is one. */
  readonly specField: string | undefined;
  constructor(
    readonly path: string,
    /** The first invalid field (dotted path), "(file)" when the file itself is the problem. */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    const specField = specFieldOf(field);
    super(
      `${path}: ${specField === undefined ? field : `${specField} (run config ${field})`}: ${message}`,
      options,
    );
    this.specField = specField;
  }
}

/** NATS could not be reached, or rejected the credentials. */
export class NatsConnectError extends Error {
  override readonly name = "NatsConnectError";
  constructor(
    readonly url: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${url}: ${message}`, options);
  }
}

/** The HTTP endpoint (/healthz, /readyz, /metrics) could not listen. */
export class HttpListenError extends Error {
  override readonly name = "HttpListenError";
  constructor(
    readonly address: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${address}: ${message}`, options);
  }
}

/**
 * The server failed its job (its job.failed is out): a checkpoint that does not fit the spec, an input
 * that is not there. Restarting the process cannot change that, so it stays up not-ready when it
 * lingers (a Deployment would restart it in a loop) until the operator scales it to 0.
 */
export class ServerJobFailedError extends Error {
  override readonly name = "ServerJobFailedError";
  /** The failure's kind, as job.failed gives it (the error's name, e.g. "ResumeMismatchError"). */
  readonly reason: string;
  /** The spec or config field at fault, when the error names one (e.g. "spec.method"). */
  readonly field: string | undefined;
  constructor(cause: Error) {
    super(`the job failed on this server: ${cause.message}`, { cause });
    this.reason = cause.name || "Error";
    const field = (cause as { field?: unknown }).field;
    this.field = typeof field === "string" ? field : undefined;
  }
}
