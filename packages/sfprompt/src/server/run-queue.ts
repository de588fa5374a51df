// Serialises session runs and batches what queued up meanwhile: requests that arrive while a run is in
// flight (or in the same tick) are handed to the next run together, so concurrent clients share one
// session run when their shapes allow.

export interface RunQueueOptions<T, R> {
  /** Runs a group of items; returns one result per item, in order. */
  readonly run: (items: readonly T[]) => Promise<R[]>;
  /** Most items in one run (default 64). */
  readonly maxItems?: number;
}

interface Pending<T, R> {
  readonly item: T;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class RunQueue<T, R> {
  readonly #o: RunQueueOptions<T, R>;
  #pending: Pending<T, R>[] = [];
  #running = false;
  /** Sizes of the groups run so far (for tests and metrics). */
  readonly groupSizes: number[] = [];

  constructor(options: RunQueueOptions<T, R>) {
    this.#o = options;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        // wait one macrotask so that requests decoded in the same tick join the first run
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const group = this.#pending.splice(0, this.#o.maxItems ?? 64);
      this.groupSizes.push(group.length);
      try {
        const results = await this.#o.run(group.map((p) => p.item));
        group.forEach((p, i) => p.resolve(results[i] as R));
      } catch (error) {
        for (const p of group) p.reject(error);
      }
    }
    this.#running = false;
  }
}
