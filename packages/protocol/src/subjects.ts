// Every NATS subject, queue group, stream and bucket name of a job, built in one place.
// Layout: sfp.<job>.<area>.<verb>; job names are validated to be single tokens.
import type { ProgressEventType } from "./events.js";
import { assertTokenSafe } from "./names.js";

export const SUBJECT_PREFIX = "sfp";

/** The subjects of one job. Request/reply services are named `<area>.<verb>`. */
export interface JobSubjects {
  readonly job: string;
  /** Body forward pass: head activations in, body activations out. */
  readonly bodyForward: string;
  /** Body backward pass: gradient w.r.t. body output in, gradient w.r.t. head output out. */
  readonly bodyBackward: string;
  /** Coordinator broadcasts that a round opened (selection, deadline). */
  readonly roundAnnounce: string;
  /** Clients report per-round state changes to the coordinator. */
  readonly roundReport: string;
  /** Request the global parameters (prompt + tail) of a round. */
  readonly paramsGlobal: string;
  /** Upload a client's local parameters and sample count for aggregation. */
  readonly paramsUpload: string;
  /**
   * Every progress event of the job (a wildcard): what the job's JetStream stream captures. Each event
   * is published on `events.<type>` (eventSubject), so a listener can take only the types it needs.
   */
  readonly allEvents: string;
  /** The job's end events (job.finished, job.failed): all a client listens to. */
  readonly jobEnd: string;
  /** Everything of the job, for monitoring and clean-up. */
  readonly all: string;
}

/** Builds the subjects of `job`; throws InvalidNameError for names that are not token-safe. */
export function jobSubjects(job: string): JobSubjects {
  assertTokenSafe(job, "job");
  const base = `${SUBJECT_PREFIX}.${job}`;
  return {
    job,
    bodyForward: `${base}.body.fwd`,
    bodyBackward: `${base}.body.bwd`,
    roundAnnounce: `${base}.round.announce`,
    roundReport: `${base}.round.report`,
    paramsGlobal: `${base}.params.global`,
    paramsUpload: `${base}.params.upload`,
    allEvents: `${base}.events.>`,
    jobEnd: `${base}.events.job.*`,
    all: `${base}.>`,
  };
}

/** The subject a progress event of `type` is published on: `sfp.<job>.events.<type>`. */
export function eventSubject(job: string, type: ProgressEventType): string {
  return `${SUBJECT_PREFIX}.${assertTokenSafe(job, "job")}.events.${type}`;
}

/** Queue group shared by all replicas of a job's body service, so requests are load-balanced. */
export function bodyQueueGroup(job: string): string {
  return `sfp-${assertTokenSafe(job, "job")}-body`;
}

/**
 * The per-instance subject a responder listens on for the remaining chunks of a transfer whose first
 * chunk reached it through the queue group (so all chunks land on the same replica).
 */
export function directSubject(service: string, instanceId: string): string {
  return `${service}.direct.${instanceId}`;
}

/** JetStream stream holding the job's progress events. */
export function eventStreamName(job: string): string {
  return `sfp-${assertTokenSafe(job, "job")}-events`;
}

/** Object Store bucket for the job's partition bundles, checkpoints and final artifacts. */
export function artifactBucketName(job: string): string {
  return `sfp-${assertTokenSafe(job, "job")}-artifacts`;
}

/** KV bucket holding the job's round state, so a restarted server resumes. */
export function stateBucketName(job: string): string {
  return `sfp-${assertTokenSafe(job, "job")}-state`;
}
