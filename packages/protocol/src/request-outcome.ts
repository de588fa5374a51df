// How a data-plane request ended, as the latency metrics label it: one small fixed set of values,
// whatever the error, so a label never carries a message, a job or a round.
import { NoRespondersError, RequestTimeoutError } from "./errors.js";
import type { FrameHeader } from "./header-schema.js";

/**
 * `ok`: a data reply. `error`: an error reply, or a reply that could not be read. `timeout`: no reply
 * within the timeouts of every attempt. `unavailable`: no responder on the subject (no service yet).
 */
export const REQUEST_OUTCOMES = ["ok", "error", "timeout", "unavailable"] as const;

export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** The outcome a failed request ends with, by the class of its error. */
export function requestOutcomeOf(error: unknown): Exclude<RequestOutcome, "ok"> {
  if (error instanceof RequestTimeoutError) return "timeout";
  if (error instanceof NoRespondersError) return "unavailable";
  return "error";
}

/** One finished request as its requester saw it: retries included, from the first send to the end. */
export interface RequestObservation {
  readonly subject: string;
  readonly kind: FrameHeader["kind"];
  /** The request's header meta (what a subject's operations are told apart by). */
  readonly meta: FrameHeader["meta"];
  readonly attempts: number;
  readonly seconds: number;
  readonly outcome: RequestOutcome;
}

/**
 * One request a responder answered: from its last chunk's arrival to the reply sent (`ok`, a cached
 * reply to a retry included) or to the error reply (`error`, any refused frame or failed handler).
 */
export interface ResponseObservation {
  readonly subject: string;
  /** The request's header; undefined when the frame was refused before it could be read. */
  readonly request: FrameHeader | undefined;
  readonly seconds: number;
  readonly outcome: Extract<RequestOutcome, "ok" | "error">;
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
