// The requester side of frame request/reply: sends a frame (chunk by chunk, each acked, so all chunks
// reach the replica that took the first), collects the possibly chunked reply, and retries on timeouts,
// missing responders and retryable error replies. Retries reuse the idempotency key, so they are safe.
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import {
  DataPlaneError,
  FrameHeaderError,
  NoRespondersError,
  RequestTimeoutError,
  errorFromReply,
  type FrameRef,
} from "./errors.js";
import {
  decodeFrame,
  encodeFrame,
  frameRef,
  type DecodedFrame,
  type EncodedFrame,
  type FrameInit,
  type ParsedChunk,
} from "./frame.js";
import { AckMetaSchema, ErrorReplyMetaSchema, type FrameHeader } from "./header-schema.js";
import { Reassembler, type ReassemblyLimits } from "./reassembly.js";
import { tell, type ObserverErrorSink } from "./observers.js";
import { requestOutcomeOf, secondsSince, type RequestObservation } from "./request-outcome.js";
import type { TrafficLedger } from "./traffic-ledger.js";
import { maxPayloadOf, publishCounted, receiveCounted, wireLength } from "./wire.js";

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

async function collectReply(
  inbox: ReplyInbox,
  subject: string,
  first: ParsedChunk,
  o: RequestOptions,
  request: FrameHeader,
): Promise<DecodedFrame> {
  const reassembler = new Reassembler({ ...o.limits, maxInFlight: 1 });
  let chunk = first;
  for (;;) {
    const r = reassembler.accept(chunk);
    if (r.status === "complete") return decodeFrame(r.header, r.payload);
    chunk = receiveReply(o.ledger, await inbox.next(subject), subject, request);
  }
}

/** Counts and parses a reply message on `subject`; error replies become their typed errors. */
function receiveReply(
  ledger: TrafficLedger | undefined,
  msg: Msg,
  subject: string,
  request: FrameHeader,
): ParsedChunk {
  if (msg.headers?.code === 503) {
    const { client, round, kind } = request;
    ledger?.record({ client, round, kind, direction: "received" }, wireLength(msg));
    // NATS says only that nobody subscribes: a server starting, one gone, and a job's end look alike
    throw new NoRespondersError(
      `no service listens on ${subject}: its server is not running or has not subscribed yet, or its job ended`,
      { frame: frameRef(request) },
    );
  }
  const chunk = receiveCounted(ledger, msg);
  const h = chunk.header;
  if (h.type === "error") {
    const meta = ErrorReplyMetaSchema.safeParse(h.meta);
    if (!meta.success)
      throw new FrameHeaderError("error reply without a valid code", { frame: frameRef(h), field: "meta" });
    const field = meta.data.field;
    throw errorFromReply(meta.data.code, meta.data.message, {
      frame: frameRef(request),
      ...(field === undefined ? {} : { field }),
    });
  }
  const same =
    h.job === request.job &&
    h.client === request.client &&
    h.round === request.round &&
    h.step === request.step;
  if (!same)
    throw new FrameHeaderError("reply names another request than the one sent", { frame: frameRef(h) });
  return chunk;
}

/** A private inbox: messages are queued until `next()` takes them, each wait bounded by a timeout. */
class ReplyInbox {
  readonly subject = createInbox();
  readonly #sub: Subscription;
  readonly #queue: Msg[] = [];
  #waiter: ((m: Msg) => void) | undefined;

  constructor(
    nc: NatsConnection,
    readonly timeoutMs: number,
    readonly frame: FrameRef,
    readonly signal: AbortSignal | undefined,
  ) {
    this.#sub = nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err !== null) return; // the subscription failed: the waiter's timeout reports it
        const w = this.#waiter;
        if (w === undefined) this.#queue.push(msg);
        else {
          this.#waiter = undefined;
          w(msg);
        }
      },
    });
  }

  next(subject: string): Promise<Msg> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    // an abort since the attempt checked the signal (a job's end read from the same socket data as
    // the last ack) fires no listener added now: without this the wait would run to its timeout
    if (this.signal?.aborted === true) return Promise.reject(this.signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => finish(() => reject(this.signal?.reason));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new RequestTimeoutError(`no message on ${subject} within ${this.timeoutMs} ms`, {
                frame: this.frame,
              }),
            ),
          ),
        this.timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.signal?.removeEventListener("abort", onAbort);
        this.#waiter = undefined;
        settle();
      };
      this.signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiter = (m) => finish(() => resolve(m));
    });
  }

  close(): void {
    this.#sub.unsubscribe();
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
