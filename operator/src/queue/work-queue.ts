// A keyed, de-duplicating work queue in the manner of client-go's workqueue: a key is queued at most
// once, a key being processed is never handed out twice at the same time (changes that arrive meanwhile
// re-queue it once), delayed adds coalesce, and failures back off per key under an overall rate limit.
import { backoffDelay, type BackoffPolicy } from "./backoff.js";
import { TokenBucket } from "./token-bucket.js";

export interface WorkQueueOptions {
  backoff: BackoffPolicy;
  /** Overall limit on rate-limited re-adds (default 10 qps, burst 100). */
  qps?: number;
  burst?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly bucket: TokenBucket;
  private shuttingDown = false;

  constructor(private readonly opts: WorkQueueOptions) {
    this.bucket = new TokenBucket({ qps: opts.qps ?? 10, burst: opts.burst ?? 100 });
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  get length(): number {
    return this.queue.length;
  }

  /** Keys waiting behind a delay. */
  get delayed(): number {
    return this.timers.size;
  }

  /** Queues `key` unless it is already queued; a key in progress is queued again once done. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(key);
    else this.queue.push(key);
  }

  /** Queues `key` after `ms`; of several delayed adds of one key, the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, timer });
  }

  /** Queues `key` after its per-key backoff (which grows with each call) or the rate limit, whichever is longer. */
  addRateLimited(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const delay = Math.max(backoffDelay(this.opts.backoff, failures), this.bucket.reserve());
    this.addAfter(key, delay);
    return delay;
  }

  /** Forgets the failures of `key`, so its next rate-limited add starts from the base delay. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times `key` failed since it was last forgotten. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key; resolves undefined once the queue is shut down. Call done(key) after processing. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push((k) => resolve(k === undefined ? k : this.take(k))));
  }

  /** Marks `key` processed; if it changed meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** Stops handing out keys: pending delays are dropped, waiting get() calls resolve undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    // Keys not yet started are dropped: the next leader (or the next start) reconciles every job anyway.
    this.queue.length = 0;
    this.dirty.clear();
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiters.splice(0).forEach((w) => w(undefined));
  }

  /** Resolves once no key is being processed (call after shutDown to drain). */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
