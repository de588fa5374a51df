// Publishing the job's progress events on its JetStream stream (and to in-process listeners), with
// the fields every event carries filled in. A failed publish is retried until the event is some
// minutes old, then logged: never fatal to training. Retries are safe: round and job events carry a
// message id the stream de-duplicates on. The queue is bounded; client states are dropped first.
// Every event carries the run's attempt, known once the coordinator chose where to go on from: the
// server holds its events until then (the services answer polls before that), and this server
// start's launch token. A job end given up on is kept, for a lingering server to deliver later.
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  EVENT_VERSION,
  EventSchemaError,
  isTransientNatsError,
  publishEvent,
  type ProgressEvent,
} from "@sfprompt/protocol";
import type { Logger } from "../runtime/logger.js";

/** An event without the common fields (v, job, at, attempt, launch), which the publisher adds. */
export type EventBody = ProgressEvent extends infer E
  ? E extends ProgressEvent
    ? Omit<E, "v" | "job" | "at" | "attempt" | "launch">
    : never
  : never;

export interface EventRetryOptions {
  /** Most publish attempts per event (default: while NATS is away, no limit other than `budgetMs`; 5 when JetStream refuses it). */
  readonly attempts?: number;
  /** Pause before the second attempt, doubled before each further one up to 2 s (default 250 ms). */
  readonly backoffMs?: number;
  /** How long after it was queued an event is still tried (default 300 000 ms: NATS away for 5 min). */
  readonly budgetMs?: number;
  /** Most events waiting to go out (default 1000); beyond it the oldest client states are dropped. */
  readonly maxQueued?: number;
}

interface Queued {
  readonly event: ProgressEvent;
  readonly deadline: number;
  readonly done: () => void;
}

const MAX_BACKOFF_MS = 2000;

export class EventPublisher {
  constructor(
    readonly nc: NatsConnection,
    readonly job: string,
    readonly logger: Logger,
    readonly listener?: (e: ProgressEvent) => void,
    readonly retry: EventRetryOptions = {},
  ) {}

  /** Events not yet on the stream, oldest first; the first is the one being sent. */
  readonly #queue: Queued[] = [];
  #pumping = false;
  #drained: (() => void)[] = [];
  /** The attempt stamped on every event sent (undefined: none, as older servers sent them). */
  #attempt: string | undefined;
  #attemptStarted = false;
  /** Set while events wait for startAttempt(). */
  #held: { release: () => void; released: Promise<void> } | undefined;
  /** This server start's token, in every event and in the dedup id of round events (ADR 0036). */
  readonly launch = randomBytes(8).toString("hex");
  /** The job end (job.finished / job.failed) given up on, as it was to be sent. */
  #undeliveredEnd: ProgressEvent | undefined;

  /** The attempt stamped on the events (undefined: not known yet, or none). */
  get attempt(): string | undefined {
    return this.#attempt;
  }

  /**
   * The job.finished / job.failed this publisher gave up on (NATS away longer than its budget), as it
   * was to be sent: a server that lingers goes on delivering it (deliverJobEnd).
   */
  undeliveredEnd(): ProgressEvent | undefined {
    return this.#undeliveredEnd;
  }

  /** Makes events wait for startAttempt() before they go out (they queue meanwhile). */
  holdUntilAttempt(): void {
    if (this.#held !== undefined || this.#attemptStarted) return;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.#held = { release, released };
  }

  /**
   * Stamps `attempt` on every event sent from now on (those queued included) and lets held events
   * go. The first call wins: an attempt does not change within a server's run.
   */
  startAttempt(attempt: string | undefined): void {
    if (this.#attemptStarted) return;
    this.#attemptStarted = true;
    this.#attempt = attempt;
    const held = this.#held;
    this.#held = undefined;
    held?.release();
  }

  /**
   * Queues `body` and resolves once it is on the stream or given up on (never rejects). Events go
   * out one at a time, in order, each retried while the stream does not acknowledge it: JetStream
   * acks slow down while hundreds of MB of parameters cross the same NATS server, and a nats-server
   * restarting takes a while; a lost round.finished would drop that round from the job's status.
   * Callers should not await it where a retried publish would hold up training or a reply.
   */
  publish(body: EventBody): Promise<void> {
    // the listener hears it at once, without the attempt (which may not be known yet)
    const event = { ...body, v: EVENT_VERSION, job: this.job, at: new Date().toISOString() } as ProgressEvent;
    this.listener?.(event);
    return new Promise((done) => {
      this.#queue.push({ event, deadline: Date.now() + (this.retry.budgetMs ?? 300_000), done });
      this.#bound();
      void this.#pump();
    });
  }

  /**
   * Resolves once every event queued so far is on the stream or given up on; at once while events
   * are held for the attempt (they cannot go out before startAttempt).
   */
  flush(): Promise<void> {
    if (this.#queue.length === 0 || this.#held !== undefined) return Promise.resolve();
    return new Promise((r) => this.#drained.push(r));
  }

  // Beyond the bound, client states go first (the next state report supersedes them), oldest first;
  // the event being sent stays.
  #bound(): void {
    const max = Math.max(2, this.retry.maxQueued ?? 1000);
    while (this.#queue.length > max) {
      let i = this.#queue.findIndex((q, k) => k > 0 && q.event.type === "client.state");
      if (i < 0) i = 1;
      const [gone] = this.#queue.splice(i, 1);
      this.logger.log("warn", "event-dropped", {
        type: gone!.event.type,
        ...("client" in gone!.event ? { client: gone!.event.client } : {}),
        ...("round" in gone!.event ? { round: gone!.event.round } : {}),
        queued: this.#queue.length,
        hint: "more progress events wait than the publisher keeps (NATS away or slow): the oldest client states go first",
      });
      gone!.done();
    }
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        if (this.#held !== undefined) await this.#held.released;
        const head = this.#queue[0]!;
        await this.#send(head);
        this.#queue.shift();
        head.done();
      }
    } finally {
      this.#pumping = false;
      for (const r of this.#drained.splice(0)) r();
    }
  }

  async #send(queued: Queued): Promise<void> {
    const { deadline } = queued;
    const event = {
      ...queued.event,
      ...(this.#attempt === undefined ? {} : { attempt: this.#attempt }),
      launch: this.launch,
    } as ProgressEvent;
    const attempts = this.retry.attempts ?? Number.POSITIVE_INFINITY;
    // what NATS away looks like (timeouts, no responders) is retried until the deadline; a refusal
    // (no room in the stream) a few times only
    const refusedAttempts = Math.min(attempts, 5);
    for (let attempt = 1; ; attempt++) {
      try {
        await publishEvent(this.nc, event);
        if (attempt > 1) this.logger.log("info", "event-published", { type: event.type, attempts: attempt });
        return;
      } catch (error) {
        // an event that fails its schema fails it again: only the stream's side is worth retrying
        const pause = Math.min((this.retry.backoffMs ?? 250) * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        if (
          attempt >= (isTransientNatsError(error) ? attempts : refusedAttempts) ||
          Date.now() + pause > deadline ||
          error instanceof EventSchemaError ||
          this.nc.isClosed()
        ) {
          this.logger.log("warn", "event-publish-failed", { type: event.type, attempts: attempt, error });
          const end = event.type === "job.finished" || event.type === "job.failed";
          if (end && !(error instanceof EventSchemaError)) this.#undeliveredEnd = event;
          return;
        }
        this.logger.log("info", "event-publish-retry", { type: event.type, attempt, error });
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }
}
