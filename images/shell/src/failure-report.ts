// What a process says (one error log line) and exits with for the error its work ended with, other
// than a stop on a signal: the exit code follows from the error's class (exit-codes.ts).
import { JobFailedError } from "@sfprompt/core";
import { isTransientNatsError } from "@sfprompt/protocol";
import { NatsConnectError, ServerJobFailedError, SettingsError } from "./errors.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { JobInputError } from "./inputs/errors.js";

export interface FailureReport {
  readonly event: string;
  readonly fields: Record<string, unknown>;
  readonly code: ExitCode;
  /** Set when this server failed its job: the reason, which /readyz shows while the process lingers. */
  readonly failedJob?: string;
}

/** The log line and exit code for `error`. */
export function failureReport(error: unknown): FailureReport {
  if (error instanceof NatsConnectError)
    return { event: "nats.unreachable", fields: { url: error.url, error: error.message }, code: EXIT.nats };
  if (error instanceof ServerJobFailedError) return failedJobReport(error);
  if (isTransientNatsError(error))
    // NATS or its JetStream not there (yet): no fault of the job, so a restart tries again
    return {
      event: "nats.unavailable",
      fields: { error, hint: "NATS or JetStream did not answer; the process ends so that it is restarted" },
      code: EXIT.nats,
    };
  if (error instanceof SettingsError)
    return {
      event: "config.invalid",
      fields: { setting: error.setting, error: error.message },
      code: EXIT.config,
    };
  if (error instanceof JobFailedError)
    // the server failed the job: this process did nothing wrong, and restarting it cannot help
    return {
      event: "runtime.job-failed",
      fields: { reason: error.reason, error: error.message },
      code: EXIT.jobFailed,
    };
  if (error instanceof JobInputError)
    // the model, bundle or data the config names is not there: retrying the pod cannot help
    return {
      event: "config.invalid",
      fields: { field: error.field, error: error.message },
      code: EXIT.config,
    };
  return { event: "runtime.failed", fields: { error, stack: (error as Error)?.stack }, code: EXIT.runtime };
}

/** The job failed on this server: the reason and the field a restart would meet again. */
function failedJobReport(error: ServerJobFailedError): FailureReport {
  const cause = error.cause as Error;
  const fields = { reason: error.reason, ...(error.field ? { field: error.field } : {}), jobFailed: true };
  return cause instanceof JobInputError
    ? {
        event: "config.invalid",
        fields: { ...fields, error: cause.message },
        code: EXIT.config,
        failedJob: error.reason,
      }
    : {
        event: "runtime.failed",
        fields: { ...fields, error: cause.message, stack: cause.stack },
        code: EXIT.runtime,
        failedJob: error.reason,
      };
}
