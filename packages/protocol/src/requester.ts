// The requester side of frame request/reply: sends a frame (chunk by chunk, each acked, so all chunks
// reach the replica that took the first), collects the possibly chunked reply, and retries on timeouts,
// missing responders and retryable error replies. Retries reuse the idempotency key, so they are safe.
import type { NatsConnection } from "@nats-io/transport-node";
import { DataPlaneError, FrameHeaderError, RequestTimeoutError } from "./errors.js";
import { encodeFrame, frameRef, type DecodedFrame, type EncodedFrame, type FrameInit } from "./frame.js";
import { AckMetaSchema, type FrameHeader } from "./header-schema.js";
import type { ReassemblyLimits } from "./reassembly.js";
import { tell, type ObserverErrorSink } from "./observers.js";
import { ReplyInbox } from "./reply-inbox.js";
import { collectReply, receiveReply } from "./reply-reader.js";
import { requestOutcomeOf, secondsSince, type RequestObservation } from "./request-outcome.js";
import type { TrafficLedger } from "./traffic-ledger.js";
import { maxPayloadOf, publishCounted } from "./wire.js";

export interface RequestOptions {
  /** Longest wait for each expected message (ack or reply chunk), in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Attempts after the first, on timeouts, missing responders and retryable errors (default 3). */
  readonly retries?: number;
  /** Pause before the first retry, doubled on each further one (default 50 ms). */
  readonly backoffMs?: number;
  readonly ledger?: TrafficLedger;
  readonly limits?: ReassemblyLimits;
  readonly signal?: AbortSignal;
  /**
   * Called before each retry, with the attempt that failed (1-based) and why: a retry re-sends the
   * whole request, so its bytes count again in the ledger (they did cross the wire).
   */
  readonly onRetry?: (retry: RetryInfo) => void;
  /**
   * Called once when the request ends, with its duration over every attempt and its outcome (for
   * latency metrics); not called for a request that `signal` aborted (a shutdown, not a latency).
   */
  readonly observe?: (request: RequestObservation) => void;
  /**
   * Where an `observe` that threw is reported (the process's structured log); default: a process
   * warning. The ledger reports its own observer's failures (its constructor's `onObserverError`).
   */
  readonly onObserverError?: ObserverErrorSink;
  /**
   * Largest message to chunk the request into, in bytes (at most, and by default, the connection's
   * max_payload): a resend that must continue a transfer cut off under another server's limit.
   */
  readonly maxPayload?: number;
}

export interface RetryInfo {
  readonly subject: string;
  /** The request's round and kind, as its frame header names them. */
  readonly round: number;
  readonly kind: FrameHeader["kind"];
  readonly attempt: number;
  readonly error: DataPlaneError;
  /**
   * Bytes of the whole request, what the retry sends again at most (a retry the responder answers
   * from its reply cache stops after the first chunk).
   */
  readonly requestBytes: number;
}

/** Sends `init` to `subject` and resolves with the validated reply frame, or throws a typed error. */
export async function requestFrame(
  nc: NatsConnection,
  subject: string,
  init: FrameInit,
  options: RequestOptions = {},
): Promise<DecodedFrame> {
  const frame = encodeFrame(init, Math.min(options.maxPayload ?? Infinity, maxPayloadOf(nc)));
  const observe = options.observe;
  if (observe === undefined) return await withRetries(nc, subject, frame, options, { attempts: 0 });
  const start = performance.now();
  const count = { attempts: 0 };
  const seen = (outcome: RequestObservation["outcome"]): void =>
    tell(
      "observe",
      observe,
      [
        {
          subject,
          kind: frame.header.kind,
          meta: frame.header.meta,
          attempts: count.attempts,
          seconds: secondsSince(start),
          outcome,
        },
      ],
      options.onObserverError,
    );
  let reply: DecodedFrame;
  try {
    reply = await withRetries(nc, subject, frame, options, count);
  } catch (error) {
    if (options.signal?.aborted !== true) seen(requestOutcomeOf(error));
    throw error;
  }
  // outside the try: the reply is the caller's whatever the observer does
  seen("ok");
  return reply;
}

async function withRetries(
  nc: NatsConnection,
  subject: string,
  frame: EncodedFrame,
  options: RequestOptions,
  count: { attempts: number },
): Promise<DecodedFrame> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      count.attempts = attempt + 1;
      return await attemptRequest(nc, subject, frame, options);
    } catch (error) {
      if (!(error instanceof DataPlaneError) || !error.retryable) throw error;
      if (attempt >= retries) throw giveUp(error, subject, frame.header, attempt + 1);
      options.onRetry?.({
        subject,
        round: frame.header.round,
        kind: frame.header.kind,
        attempt: attempt + 1,
        error,
        requestBytes: frame.chunks.reduce((n, c) => n + c.length, 0),
      });
      await sleep((options.backoffMs ?? 50) * 2 ** attempt, options.signal);
    }
  }
}

function giveUp(last: DataPlaneError, subject: string, h: FrameHeader, attempts: number): DataPlaneError {
  if (!(last instanceof RequestTimeoutError)) return last;
  return new RequestTimeoutError(
    `no reply on ${subject} after ${attempts} attempts; check that the service for this subject is running`,
    { frame: frameRef(h), cause: last },
  );
}

async function attemptRequest(
  nc: NatsConnection,
  subject: string,
  frame: EncodedFrame,
  o: RequestOptions,
): Promise<DecodedFrame> {
  const inbox = new ReplyInbox(nc, o.timeoutMs ?? 10_000, frameRef(frame.header), o.signal);
  const h = frame.header;
  try {
    publishCounted(nc, o.ledger, h, subject, frame.chunks[0]!, inbox.subject);
    for (let i = 1; i < frame.chunks.length; i++) {
      const got = receiveReply(o.ledger, await inbox.next(subject), subject, h);
      // a retried transfer may be answered from the responder's cache right at chunk 0
      if (got.header.type === "data") return await collectReply(inbox, subject, got, o, h);
      const ack = AckMetaSchema.safeParse(got.header.meta);
      if (!ack.success)
        throw new FrameHeaderError("ack carries no valid `next` subject", {
          frame: frameRef(got.header),
          field: "meta",
        });
      publishCounted(nc, o.ledger, h, ack.data.next, frame.chunks[i]!, inbox.subject);
    }
    let first = receiveReply(o.ledger, await inbox.next(subject), subject, h);
    while (first.header.type === "ack") first = receiveReply(o.ledger, await inbox.next(subject), subject, h);
    return await collectReply(inbox, subject, first, o, h);
  } finally {
    inbox.close();
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return void reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    // the listener goes with the pause: a signal that outlives the request (a client's) keeps none
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
