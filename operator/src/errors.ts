// Typed errors of the operator: one class per failure kind, each naming what failed and what to do.

/** A call to the Kubernetes API failed; `status` is the HTTP code when there was a response. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(
    readonly action: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(failedMessage(action, status, options?.cause), options);
  }
}

/** An object with a child's name exists but is not this job's: the operator will not take it over. */
export class ChildConflictError extends Error {
  override readonly name = "ChildConflictError";
  constructor(
    readonly child: string,
    owner: string | undefined,
  ) {
    super(
      `${child} already exists and is not this job's (${owner ? `it is controlled by ${owner}` : "it has no controller"}); delete or rename it, or give the job another name, and the operator creates its own`,
    );
  }
}

/** The operator's configuration (flags/env) is unusable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The job's spec cannot be reconciled; retrying will not help until the user changes it. */
export class InvalidJobError extends Error {
  override readonly name = "InvalidJobError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Removing a job's NATS resources failed (NATS unreachable or refused). */
export class NatsCleanupError extends Error {
  override readonly name = "NatsCleanupError";
  constructor(
    readonly job: string,
    options?: { cause?: unknown },
  ) {
    super(
      `removing the NATS resources of job ${job} failed: ${errorDetail(options?.cause)}; will retry`,
      options,
    );
  }
}

/** The HTTP status of an error thrown by @kubernetes/client-node, if it carries one. */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status;
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  // ApiException carries `code`; a failed watch (client-node's Watch) carries `statusCode`
  const code = [e?.code, e?.statusCode].find((c) => typeof c === "number");
  return code as number | undefined;
}

/** "<action> failed (HTTP <status>): <detail>", the part in brackets only when there was a response. */
export function failedMessage(action: string, status: number | undefined, cause: unknown): string {
  return `${action} failed${status ? ` (HTTP ${status})` : ""}: ${errorDetail(cause)}`;
}

/** What to do after a failed call: the advice for its HTTP status, else `otherwise` (also with no status). */
export interface StatusAdvice {
  byStatus: Partial<Record<number, string>>;
  otherwise: string;
}

/** failedMessage for `cause` (its HTTP status read from it), then "; " and the advice for that status. */
export function failedWithAdvice(action: string, cause: unknown, advice: StatusAdvice): string {
  const status = httpStatus(cause);
  const todo = (status === undefined ? undefined : advice.byStatus[status]) ?? advice.otherwise;
  return `${failedMessage(action, status, cause)}; ${todo}`;
}

/** What went wrong in `cause`: the API server's message from a response body, else the error's message. */
export function errorDetail(cause: unknown): string {
  if (cause === undefined) return "unknown error";
  const body = (cause as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      const msg = (JSON.parse(body) as { message?: string }).message;
      if (msg) return msg;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  return cause instanceof Error ? cause.message : String(cause);
}
