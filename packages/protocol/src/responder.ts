// The responder side of frame request/reply: reassembles chunked requests, validates them, runs the
// handler once per idempotency key, and answers every bad frame with a typed error reply. It never
// throws out of its message loop, whatever arrives.
import { nuid, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { checkTensors } from "./expect.js";
import { decodeFrame, encodeFrame, type EncodedFrame, type ParsedChunk } from "./frame.js";
import type { FrameHeader } from "./header-schema.js";
import { Reassembler } from "./reassembly.js";
import { ReplyCache, idempotencyKey } from "./reply-cache.js";
import { tell, warnObserverError, type ObserverError } from "./observers.js";
import { secondsSince, type ResponseObservation } from "./request-outcome.js";
import { checkSender, replyFrame } from "./responder-frames.js";
import type { ResponderOptions, ResponderStats } from "./responder-options.js";
import { directSubject } from "./subjects.js";
import { encodeErrorReply, maxPayloadOf, publishCounted, receiveCounted, replyCodeOf } from "./wire.js";

export * from "./responder-options.js";

export class FrameResponder {
  readonly #nc: NatsConnection;
  readonly #o: ResponderOptions;
  readonly #direct: string;
  readonly #subs: Subscription[];
  readonly #loops: Promise<void>[];
  readonly #inflight = new Set<Promise<void>>();
  readonly #pending = new Map<string, Promise<EncodedFrame>>();
  readonly #reassembler: Reassembler;
  readonly #cache = new ReplyCache();
  readonly #sweeper: NodeJS.Timeout;
  readonly #stats: ResponderStats = { messages: 0, handled: 0, replayed: 0, errors: {} };

  constructor(nc: NatsConnection, options: ResponderOptions) {
    this.#nc = nc;
    this.#o = options;
    this.#reassembler = new Reassembler(options.limits);
    // the token after "direct." is unique per instance: the later chunks of a transfer come here
    this.#direct = directSubject(options.subject, nuid.next());
    this.#subs = [
      nc.subscribe(options.subject, options.queue === undefined ? {} : { queue: options.queue }),
      nc.subscribe(this.#direct),
    ];
    this.#loops = this.#subs.map((s) =>
      this.#loop(s).catch((error: unknown) => {
        // a subscription that fails (e.g. a permissions violation) must not take the process down
        this.#o.log?.({
          level: "error",
          event: "subscription-failed",
          subject: s.getSubject(),
          error: String(error),
        });
      }),
    );
    this.#sweeper = setInterval(
      () => this.#reassembler.sweep(),
      Math.max(100, (options.limits?.timeoutMs ?? 30_000) / 2),
    );
    this.#sweeper.unref();
  }

  /** Where chunks after the first go; also what acks name as `next`. */
  get directSubject(): string {
    return this.#direct;
  }

  stats(): ResponderStats {
    return { ...this.#stats, errors: { ...this.#stats.errors } };
  }

  /** Stops taking messages, finishes the ones in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all(this.#subs.map((s) => (s.isClosed() ? Promise.resolve() : s.drain())));
    await Promise.all(this.#loops);
    await Promise.all([...this.#inflight]);
  }

  async #loop(sub: Subscription): Promise<void> {
    for await (const msg of sub) {
      const p = this.#onMessage(msg);
      this.#inflight.add(p);
      void p.finally(() => this.#inflight.delete(p));
    }
  }

  async #onMessage(msg: Msg): Promise<void> {
    this.#stats.messages++;
    const start = performance.now();
    let chunk: ParsedChunk | undefined;
    try {
      chunk = receiveCounted(this.#o.ledger, msg);
      checkSender(chunk.header, this.#o);
      // an ack (a chunk of a transfer still coming in) answers no request: only replies are observed
      if (await this.#onChunk(msg, chunk)) this.#observe(msg, chunk.header, start, "ok");
    } catch (error) {
      this.#replyError(msg, chunk?.header, error);
      this.#observe(msg, chunk?.header, start, "error");
    }
  }

  /** Observes a request answered; a message without a reply subject was no request. */
  #observe(
    msg: Msg,
    request: FrameHeader | undefined,
    start: number,
    outcome: ResponseObservation["outcome"],
  ): void {
    if (msg.reply === undefined || msg.reply === "") return;
    const seen = { subject: this.#o.subject, request, seconds: secondsSince(start), outcome };
    tell("observe", this.#o.observe, [seen], this.#reportObserver);
  }

  /** A hook that threw: logged when there is a log, so it never turns a reply into an error reply. */
  readonly #reportObserver = (error: ObserverError): void => {
    if (this.#o.log === undefined) return warnObserverError(error);
    this.#o.log({ level: "error", event: "observer-failed", hook: error.hook, error: String(error.cause) });
  };

  /** Answers a chunk: true when that answer was the reply (not an ack of a chunk). */
  async #onChunk(msg: Msg, chunk: ParsedChunk): Promise<boolean> {
    const h = chunk.header;
    const key = `${this.#o.subject}|${idempotencyKey(h)}`;
    const cached = h.chunkIndex === 0 ? this.#cache.get(h.client, key) : undefined;
    if (cached !== undefined) {
      this.#stats.replayed++;
      this.#sendAll(msg, cached);
      return true;
    }
    const r = this.#reassembler.accept(chunk);
    if (r.status !== "complete") {
      const ack = encodeFrame(
        { ...h, type: "ack", tensors: [], meta: { next: this.#direct, received: h.chunkIndex } },
        Number.MAX_SAFE_INTEGER,
      );
      this.#sendAll(msg, ack);
      return false;
    }
    this.#sendAll(msg, await this.#handleOnce(key, r.header, r.payload));
    return true;
  }

  /** Runs the handler once per key: a retry arriving while the first attempt runs waits for it. */
  #handleOnce(key: string, header: FrameHeader, payload: Uint8Array): Promise<EncodedFrame> {
    const running = this.#pending.get(key);
    if (running !== undefined) return running;
    const p = this.#handle(header, payload).then((reply) => {
      this.#cache.set(header.client, key, reply);
      return reply;
    });
    this.#pending.set(key, p);
    void p.then(
      () => this.#pending.delete(key),
      () => this.#pending.delete(key),
    );
    return p;
  }

  async #handle(header: FrameHeader, payload: Uint8Array): Promise<EncodedFrame> {
    const request = decodeFrame(header, payload);
    if (this.#o.expect !== undefined) checkTensors(request, this.#o.expect);
    const reply = await this.#o.handler(request);
    this.#stats.handled++;
    return replyFrame(header, reply, maxPayloadOf(this.#nc));
  }

  /** Sends every chunk of `frame`, each counted under the frame's own client, round and kind. */
  #sendAll(msg: Msg, frame: EncodedFrame): void {
    if (msg.reply === undefined || msg.reply === "") return;
    for (const c of frame.chunks) publishCounted(this.#nc, this.#o.ledger, frame.header, msg.reply, c);
  }

  #replyError(msg: Msg, about: FrameHeader | undefined, error: unknown): void {
    const { code, detail } = replyCodeOf(error);
    this.#stats.errors[code] = (this.#stats.errors[code] ?? 0) + 1;
    tell("onBadFrame", this.#o.onBadFrame, [code], this.#reportObserver);
    this.#o.log?.({
      level: "warn",
      event: "bad-frame",
      subject: msg.subject,
      code,
      error: detail,
      ...frameOf(about),
    });
    if (msg.reply === undefined || msg.reply === "" || this.#nc.isClosed()) return;
    try {
      const { header, bytes } = encodeErrorReply(this.#o.job, about, error);
      publishCounted(this.#nc, this.#o.ledger, header, msg.reply, bytes);
    } catch (replyError) {
      // the connection is closing or draining: nothing more can be said to the requester
      this.#o.log?.({ level: "warn", event: "error-reply-failed", error: String(replyError) });
    }
  }
}

function frameOf(h: FrameHeader | undefined): Record<string, unknown> {
  return h === undefined ? {} : { job: h.job, client: h.client, round: h.round, step: h.step, kind: h.kind };
}

/**
 * Starts answering frame requests on `options.subject` and resolves once the server has registered
 * the subscriptions (so a request sent next finds a responder); stop() it on shutdown.
 */
export async function serveFrames(nc: NatsConnection, options: ResponderOptions): Promise<FrameResponder> {
  const responder = new FrameResponder(nc, options);
  await nc.flush();
  return responder;
}
