// The requester's private inbox for one attempt: messages queued until taken, each wait bounded by a
// timeout and ended by the request's abort signal.
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { RequestTimeoutError, type FrameRef } from "./errors.js";

/** A private inbox: messages are queued until `next()` takes them, each wait bounded by a timeout. */
export class ReplyInbox {
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
