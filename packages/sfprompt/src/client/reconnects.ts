// A request whose reply was on a connection NATS replaced (a network cut, a paused pod) never gets
// that reply: the requester would wait out its timeout (30 s by default) first. Reconnects cuts such
// a request short at the reconnect and sends it again at once under the same step (the idempotency
// key) and transfer id, so a responder that already answered it replies again from its cache, and
// one that has the first chunks of it goes on from them (ADR 0004, amendment 1).
import type { NatsConnection, Status } from "@nats-io/transport-node";
import {
  RequestTimeoutError,
  frameRef,
  maxPayloadOf,
  randomTransferId,
  requestFrame,
  type DecodedFrame,
  type FrameInit,
  type RequestOptions,
} from "@sfprompt/protocol";

/** The reason a request's signal aborts at a reconnect. */
export class ConnectionReplacedError extends Error {
  override readonly name = "ConnectionReplacedError";
  constructor(readonly server: string) {
    super(`NATS reconnected (to ${server}): a reply on the old connection is lost`);
  }
}

/** A request sent again after a reconnect. */
export interface ResendInfo {
  readonly subject: string;
  readonly round: number;
  readonly kind: FrameInit["kind"];
  readonly server: string;
}

export class Reconnects {
  #epoch = new AbortController();
  readonly #status: AsyncIterable<Status> | undefined;
  readonly #watching: Promise<void>;

  constructor(nc: NatsConnection) {
    this.#status = nc.isClosed() ? undefined : nc.status();
    this.#watching = this.#status ? this.#watch(this.#status) : Promise.resolve();
  }

  /** Aborted at the next reconnect (with a ConnectionReplacedError). */
  get signal(): AbortSignal {
    return this.#epoch.signal;
  }

  /** Stops following the connection (it is left open). */
  async close(): Promise<void> {
    const s = this.#status;
    if (s !== undefined && "stop" in s && typeof s.stop === "function") (s.stop as () => void)();
    await this.#watching;
  }

  async #watch(status: AsyncIterable<Status>): Promise<void> {
    try {
      for await (const s of status) {
        if (s.type !== "reconnect") continue;
        const ended = this.#epoch;
        this.#epoch = new AbortController();
        ended.abort(new ConnectionReplacedError(s.server));
      }
    } catch {
      // the status iterator failed with the connection: no reconnect is coming
    }
  }
}

/**
 * requestFrame, sent again (same frame: same step and transfer id) each time NATS reconnects while it
 * waits, at most `options.retries` times (default 3, as requestFrame's): at the reconnect after that
 * it fails with a RequestTimeoutError, as a request whose retries all timed out. An abort of
 * `options.signal` still ends it. Without `reconnects`, requestFrame as it is.
 */
export async function requestAcrossReconnects(
  nc: NatsConnection,
  subject: string,
  init: FrameInit,
  options: RequestOptions,
  reconnects: Reconnects | undefined,
  onResend: ((r: ResendInfo) => void) | undefined,
): Promise<DecodedFrame> {
  if (reconnects === undefined) return requestFrame(nc, subject, init, options);
  // One transfer id for every send, as requestFrame's own retries: a resend with a new one would
  // leave the cut-off transfer holding one of the responder's reassembly places (and its buffer)
  // until its inactivity timeout, and a busy responder would refuse the resend.
  let frame: FrameInit = init.transfer === undefined ? { ...init, transfer: randomTransferId() } : init;
  // Every send is chunked as the first was, so a responder holding the first chunks can take the
  // rest: a server NATS reconnected to with a larger max_payload changes nothing. One with a smaller
  // one cannot carry those chunks: the resend is a new transfer, chunked for it (ADR 0004 am. 6).
  let chunkedFor = maxPayloadOf(nc);
  // Each resend starts requestFrame's timeout and retries anew: without a bound, a connection that
  // is replaced more often than the reply takes (a reply so large that NATS drops this slow reader)
  // would have the request sent again for as long as that goes on, and nothing said but resends.
  const resends = options.retries ?? 3;
  for (let sent = 1; ; sent++) {
    const epoch = reconnects.signal;
    if (maxPayloadOf(nc) < chunkedFor) {
      chunkedFor = maxPayloadOf(nc);
      frame = { ...frame, transfer: randomTransferId() };
    }
    const link = linked(options.signal ? [options.signal, epoch] : [epoch]);
    try {
      return await requestFrame(nc, subject, frame, {
        ...options,
        maxPayload: chunkedFor,
        signal: link.signal,
      });
    } catch (error) {
      if (!(epoch.reason instanceof ConnectionReplacedError) || options.signal?.aborted === true) throw error;
      if (sent > resends) throw replacedTooOften(subject, frame, sent, epoch.reason);
      onResend?.({ subject, round: init.round, kind: init.kind, server: epoch.reason.server });
    } finally {
      link.release();
    }
  }
}

/**
 * A signal that aborts with the first of `sources` to abort, unhooked from them by release(). Not
 * AbortSignal.any: a signal it makes stays listed in each source until that source aborts (Node 20),
 * and the reconnect epoch lives as long as the connection, so every request would leave a trace.
 */
function linked(sources: readonly AbortSignal[]): { signal: AbortSignal; release(): void } {
  const ac = new AbortController();
  const unhook = sources.map((s) => {
    const abort = (): void => ac.abort(s.reason);
    if (s.aborted) abort();
    else s.addEventListener("abort", abort, { once: true });
    return () => s.removeEventListener("abort", abort);
  });
  return { signal: ac.signal, release: () => unhook.forEach((u) => u()) };
}

function replacedTooOften(
  subject: string,
  init: FrameInit,
  sends: number,
  last: ConnectionReplacedError,
): RequestTimeoutError {
  return new RequestTimeoutError(
    `no reply on ${subject}: NATS reconnected ${sends} times while it waited; check the network between this process and NATS`,
    { frame: frameRef(init), cause: last },
  );
}
