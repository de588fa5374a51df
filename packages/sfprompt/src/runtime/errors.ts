// Typed errors of the training runtime (bundle, client, server, baselines): one class per failure
// kind, each naming what was wrong and what to do about it.

/** The partition bundle on disk does not fit what the runtime needs (missing graph, tensor, input). */
export class BundleError extends Error {
  override readonly name = "BundleError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** An ORT session could not be created or run. */
export class SessionRunError extends Error {
  override readonly name: string = "SessionRunError";
  constructor(
    readonly graph: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${graph}: ${message}`, options);
  }
}

/**
 * CUDA was asked for without CPU fallback and ONNX Runtime cannot use it for `graph`; `reason` is
 * ONNX Runtime's error with what to install (cudaFailureReason), for the server to quote as it is.
 */
export class CudaUnavailableError extends SessionRunError {
  override readonly name = "CudaUnavailableError";
  constructor(
    graph: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(graph, `CUDA was asked for and cpuFallback is false, but CUDA cannot be used (${reason})`, options);
  }
}

/** The run config asks for something the runtime cannot do (a method, a data source, a count). */
export class RunConfigError extends Error {
  override readonly name = "RunConfigError";
  constructor(
    readonly field: string,
    /** What is wrong with the field and what to do, without the field's name. */
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${detail}`, options);
  }
}

/** A control message (poll, report, upload reply) did not match its schema. */
export class ControlMessageError extends Error {
  override readonly name = "ControlMessageError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A checkpoint in the Object Store cannot be used to resume (corrupt, other model, other job). */
export class CheckpointError extends Error {
  override readonly name: string = "CheckpointError";
  constructor(
    readonly object: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${object}: ${message}`, options);
  }
}

/**
 * The job's artifact bucket is marked as another job's (its owner object), or the marker cannot be
 * read: two jobs writing one bucket would overwrite each other's objects (ADR 0045, second amendment).
 */
export class BucketOwnerError extends Error {
  override readonly name = "BucketOwnerError";
  constructor(
    readonly bucket: string,
    /** The job the marker names; undefined when it cannot be read. */
    readonly owner: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A round could not be aggregated: fewer uploads than the quorum arrived before its timeout. */
export class QuorumNotReachedError extends Error {
  override readonly name = "QuorumNotReachedError";
  constructor(
    readonly round: number,
    readonly received: number,
    readonly needed: number,
  ) {
    super(
      `round ${round}: ${received} of ${needed} needed uploads arrived before the round timeout; ` +
        "the round is retried with a new selection (raise training.roundTimeoutSeconds or lower training.quorum)",
    );
  }
}

/** CUDA was asked for with server.cpuFallback false, and ONNX Runtime could not use it. */
export class ExecutionProviderError extends Error {
  override readonly name = "ExecutionProviderError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The coordinator could not write a checkpoint, the round state or the final artifact to JetStream. */
export class JobStoreError extends Error {
  override readonly name = "JobStoreError";
  constructor(
    /** What was being written, e.g. "checkpoint of round 2 (checkpoints/round-000002)". */
    readonly what: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${what}: ${message}`, options);
  }
}

/** A checkpoint was written under other spec values than the job that would resume from it has. */
export class ResumeMismatchError extends CheckpointError {
  override readonly name = "ResumeMismatchError";
  constructor(
    object: string,
    /** The spec field that differs, e.g. "spec.prompts.length". */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(object, message, options);
  }
}

/** The job's server reported the job failed (job.failed, or the round state): the client stops. */
export class JobFailedError extends Error {
  override readonly name = "JobFailedError";
  constructor(
    readonly job: string,
    /** The server's reason, e.g. "JobStoreError". */
    readonly reason: string,
    readonly serverMessage: string,
    options?: ErrorOptions,
  ) {
    super(
      `job ${job} failed on its server (${reason}: ${serverMessage}); this client stopped: ` +
        "fix what the server's log and the job's status say, then run the job again",
      options,
    );
  }
}

/** How a client learned that its job ended: the live job-end event, its server's reply, the round state. */
export type JobEndSource = "job-event" | "server-reply" | "round-state";

const SOURCE_TEXT: Record<JobEndSource, string> = {
  "job-event": "its job.finished event",
  "server-reply": "its lingering server's `done` reply",
  "round-state": "the job's round state",
};

/**
 * The job finished while this client was at work (told by `source`; `cause` is what told it: the
 * event, the reply's meta or the stored state): the reason its work stops with. Not a failure: the
 * client ends as for a finished job (client-done, exit 0).
 */
export class JobFinishedError extends Error {
  override readonly name = "JobFinishedError";
  constructor(
    readonly job: string,
    readonly source: JobEndSource,
    options?: ErrorOptions,
  ) {
    super(
      `job ${job} finished (told by ${SOURCE_TEXT[source]}); this client stops its work, which can ` +
        "no longer count: nothing to do",
      options,
    );
  }
}

/**
 * spec.output.resumeFrom names a job whose bucket does not exist or holds no checkpoint, and this job
 * has none of its own to go on from (ADR 0044). Not retried: no restart makes the checkpoint appear.
 */
export class ResumeSourceError extends Error {
  override readonly name = "ResumeSourceError";
  constructor(
    /** The source job's name (spec.output.resumeFrom.job). */
    readonly job: string,
    /** The bucket looked in. */
    readonly bucket: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `spec.output.resumeFrom.job ${job}: ${detail}, and this job has no checkpoint of its own to go on ` +
        `from. Create this job again naming a job whose bucket holds a checkpoint (set ` +
        `spec.output.resumeFrom.bucket when that job set spec.output.bucket), or without resumeFrom to ` +
        `start at round 1; keep the source job until this one has checkpointed: deleting a job deletes ` +
        `its default bucket`,
      options,
    );
  }
}

/**
 * An input of a job's server or client process (its model, bundle, data, tokenizer, the split of its
 * data) cannot be had in this process; `field` is the job's field (or flag / env var) to change, as
 * its author wrote it, e.g. "spec.data.source". Logged as config.invalid by the images and by
 * `sfprompt run`'s processes alike.
 */
export class JobInputError extends Error {
  override readonly name = "JobInputError";
  constructor(
    readonly field: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${detail}`, options);
  }
}
