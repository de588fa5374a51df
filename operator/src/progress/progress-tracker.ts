// Consumes each job's progress events from its JetStream stream into an in-memory snapshot and asks for
// a reconcile of the job when something arrived. An ordered consumer replays the stream from its
// start, so a restarted operator rebuilds the same snapshot without any state of its own.
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { eventStreamName, parseEvent, stopMessagesOn, type ProgressEvent } from "@sfprompt/protocol";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log.js";
import { applyProgressEvent } from "./events.js";
import type { NatsPool } from "./nats-pool.js";
import { emptySnapshot, type ProgressSnapshot } from "./snapshot.js";

export interface ProgressTrackerOptions {
  pool: NatsPool;
  log: Logger;
  /** Pause before trying again when NATS or the job's stream is not there (yet). */
  retryMs: number;
  /** Called with the job key after new events were folded in. */
  onChange: (key: string) => void;
}

interface Tracked {
  url: string;
  token: string;
  abort: AbortController;
  done: Promise<void>;
}

export class ProgressTracker {
  private readonly tracked = new Map<string, Tracked>();
  private readonly snapshots = new Map<string, ProgressSnapshot>();
  /** Jobs whose replay reached the end of the stream once; before that a snapshot is incomplete. */
  private readonly caughtUp = new Set<string>();
  /** When the stream each snapshot was folded from was created: a new one means a lost stream. */
  private readonly streamCreated = new Map<string, string>();
  private skipped = 0;

  constructor(private readonly opts: ProgressTrackerOptions) {}

  /** Starts consuming the events of job `key` (data-plane token `token`) from NATS at `url`, once. */
  track(key: string, url: string, token: string): void {
    const t = this.tracked.get(key);
    if (t && t.url === url && t.token === token) return;
    if (t) {
      // Another NATS or stream (spec.transport.url changed): its sequence numbers and events have
      // nothing to do with the old stream's, so the replay starts over from its first message.
      t.abort.abort();
      this.restart(key);
    }
    const abort = new AbortController();
    const done = this.run(key, url, token, abort.signal);
    this.tracked.set(key, { url, token, abort, done });
  }

  /**
   * The job's progress, once the replay has reached the end of its stream (a half-replayed snapshot
   * would move the status back to an older round for a moment after an operator restart).
   */
  snapshot(key: string): ProgressSnapshot | undefined {
    return this.caughtUp.has(key) ? this.snapshots.get(key) : undefined;
  }

  /** Events that did not match the protocol's schema (skipped, counted for /metrics). */
  get skippedEvents(): number {
    return this.skipped;
  }

  /** Stops consuming job `key` and drops its snapshot (the job is gone). */
  async forget(key: string): Promise<void> {
    const t = this.tracked.get(key);
    this.tracked.delete(key);
    this.restart(key);
    if (t) {
      t.abort.abort();
      await t.done;
    }
  }

  /** Drops what was folded for `key`, so the next replay starts at the stream's first message. */
  private restart(key: string): void {
    this.snapshots.delete(key);
    this.caughtUp.delete(key);
    this.streamCreated.delete(key);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.tracked.keys()].map((k) => this.forget(k)));
  }

  private async run(key: string, url: string, token: string, signal: AbortSignal): Promise<void> {
    const log = this.opts.log.with({ job: key, natsUrl: url });
    while (!signal.aborted) {
      try {
        await this.consume(key, url, token, signal);
      } catch (err) {
        if (!signal.aborted)
          log.debug("progress events not available yet; retrying", { err, retryMs: this.opts.retryMs });
      }
      await sleep(this.opts.retryMs, undefined, { signal }).catch(() => undefined);
    }
  }

  private parse(key: string, seq: number, data: Uint8Array): ProgressEvent | undefined {
    try {
      return parseEvent(JSON.parse(new TextDecoder().decode(data)) as unknown);
    } catch (err) {
      // A bad event is skipped, not retried: it would fail the same way every time.
      this.skipped++;
      this.opts.log.warn("skipping an invalid progress event", { job: key, seq, err });
      return undefined;
    }
  }

  private async consume(key: string, url: string, token: string, signal: AbortSignal): Promise<void> {
    const nc = await this.opts.pool.get(url);
    // A stream deleted and made again (NATS without persistence restarted) numbers from 1 again and
    // holds other events: the replay starts over instead of skipping to the old position.
    const stream = eventStreamName(token);
    const created = (await (await jetstreamManager(nc)).streams.info(stream)).created;
    const before = this.streamCreated.get(key);
    if (before !== undefined && before !== created) this.restart(key);
    this.streamCreated.set(key, created);
    const from = (this.snapshots.get(key)?.sequence ?? 0) + 1;
    // The stream holds only the job's events, so no subject filter is needed (and nats-server 2.9,
    // Debian's, does not know filter_subjects).
    const consumer = await jetstream(nc).consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    // A missing consumer or stream ends the iteration, so the loop above checks the stream again
    // instead of the ordered consumer silently resuming at its old position in a new stream.
    const messages = await consumer.consume({ abort_on_missing_resource: true });
    // stops at once on an abort (also one that came during the set-up above) or a pool close, so
    // forget() never waits on an iterator whose queued stop nobody pulls
    const detach = stopMessagesOn(messages, nc, signal);
    try {
      for await (const m of messages) {
        // an aborted consumer's last message must not land in the snapshot of its successor
        if (signal.aborted) break;
        const before = this.snapshots.get(key) ?? emptySnapshot();
        const event = this.parse(key, m.seq, m.data);
        this.snapshots.set(
          key,
          event ? applyProgressEvent(before, event, m.seq) : { ...before, sequence: m.seq },
        );
        if (m.info.pending === 0) this.caughtUp.add(key);
        if (this.caughtUp.has(key)) this.opts.onChange(key);
      }
    } finally {
      detach();
      await messages.close();
    }
  }
}
