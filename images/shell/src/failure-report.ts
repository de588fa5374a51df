// What a process says (one log line) and exits with for the error its work ended with: the exit
// code follows from the error's class (exit-codes.ts). The job's finish is no failure (info, exit 0).
import { JobFailedError, JobFinishedError } from "@sfprompt/core";
import { isTransientNatsError } from "@sfprompt/protocol";
import { NatsConnectError, ServerJobFailedError, SettingsError } from "./errors.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { JobInputError } from "./inputs/errors.js";

export interface FailureReport {
  readonly event: string;
  /** "error" unless the work ended with the job's finish, which is no failure. */
  readonly level: "info" | "error";
  readonly fields: Record<string, unknown>;
  readonly code: ExitCode;
  /** Set when this server failed its job: the reason, which /readyz shows while the process lingers. */
  readonly failedJob?: string;
}

/** The log line and exit code for `error`. */
export function failureReport(error: unknown): FailureReport {
  if (error instanceof JobFinishedError)
    // runClient ends with it when SIGTERM came as a finish stopped its round: ended as the finish
    // ends a client (exit 0), not as a failure
    return {
      event: "runtime.job-finished",
      level: "info",
      fields: {
        learnedFrom: error.source,
        error: error.message,
        hint: "the job finished on its server while this client was at work; it stops, nothing failed",
      },
      code: EXIT.ok,
    };
  if (error instanceof NatsConnectError)
    return {
      event: "nats.unreachable",
      level: "error",
      fields: { url: error.url, error: error.message },
      code: EXIT.nats,
    };
  if (error instanceof ServerJobFailedError) return failedJobReport(error);
  if (isTransientNatsError(error))
    // NATS or its JetStream not there (yet): no fault of the job, so a restart tries again
    return {
      event: "nats.unavailable",
      level: "error",
      fields: { error, hint: "NATS or JetStream did not answer; the process ends so that it is restarted" },
      code: EXIT.nats,
    };
  if (error instanceof SettingsError)
    return {
      event: "config.invalid",
      level: "error",
      fields: { setting: error.setting, error: error.message },
      code: EXIT.config,
    };
  if (error instanceof JobFailedError)
    // the server failed the job: this process did nothing wrong, and restarting it cannot help
    return {
      event: "runtime.job-failed",
      level: "error",
      fields: { reason: error.reason, error: error.message },
      code: EXIT.jobFailed,
    };
  if (error instanceof JobInputError)
    // the model, bundle or data the config names is not there: retrying the pod cannot help
    return {
      event: "config.invalid",
      level: "error",
      fields: { field: error.field, error: error.message },
      code: EXIT.config,
    };
  return {
    event: "runtime.failed",
    level: "error",
    fields: { error, stack: (error as Error)?.stack },
    code: EXIT.runtime,
  };
}

/** The job failed on this server: the reason and the field a restart would meet again. */
function failedJobReport(error: ServerJobFailedError): FailureReport {
  const cause = error.cause as Error;
  const fields = { reason: error.reason, ...(error.field ? { field: error.field } : {}), jobFailed: true };
  return cause instanceof JobInputError
    ? {
        event: "config.invalid",
        level: "error",
        fields: { ...fields, error: cause.message },
        code: EXIT.config,
        failedJob: error.reason,
      }
    : {
        event: "runtime.failed",
        level: "error",
        fields: { ...fields, error: cause.message, stack: cause.stack },
        code: EXIT.runtime,
        failedJob: error.reason,
      };
}
