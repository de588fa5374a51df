// Typed errors of the process shell: one class per failure kind, each naming the flag, env var or
// config field at fault and what to do. The exit code follows from the class (exit-codes.ts).

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

/** The run config file cannot be read, parsed or validated. */
export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
  constructor(
    readonly path: string,
    /** The first invalid field (dotted path), "(file)" when the file itself is the problem. */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${field}: ${message}`, options);
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
