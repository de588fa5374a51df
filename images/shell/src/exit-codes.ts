// Exit codes of the server and client processes (docs/images.md lists them for operators of pods).

export const EXIT = {
  /** The job finished, or SIGTERM/SIGINT stopped the process and it drained within the grace period. */
  ok: 0,
  /** The settings or the run config are invalid (flag, env var or config field named in the log). */
  config: 1,
  /** NATS could not be reached before the connect timeout, or the connection closed for good. */
  nats: 2,
  /** The runtime failed (job failed, unrecoverable error, uncaught exception). */
  runtime: 3,
  /** Shutdown did not finish within the grace period (or a second signal came): forced exit. */
  forced: 4,
  /** A client stopped because its server reported the job failed (job.failed): nothing to wait for. */
  jobFailed: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
