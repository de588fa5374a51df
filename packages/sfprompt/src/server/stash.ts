// What the body backward needs from its forward, kept per (client, round, step) in a bounded cache:
// the head activations (recompute) or the saved activations (save-activations). Oldest entries go
// first; a backward whose entry is gone asks the client to send its forward again.
import type { Tensor } from "@sfprompt/engine";

export interface StashEntry {
  readonly batch: number;
  /** recompute: the body input a_h; save-activations: the tensors the backward graph reads. */
  readonly tensors: Record<string, Tensor>;
}

export function stashKey(client: string, round: number, step: number): string {
  return `${client}/${round}/${step}`;
}

export class ActivationStash {
  readonly #entries = new Map<string, StashEntry>();
  #evicted = 0;

  constructor(readonly maxEntries = 256) {}

  put(key: string, entry: StashEntry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
      this.#evicted++;
    }
  }

  /** Removes and returns the entry (a backward consumes its forward). */
  take(key: string): StashEntry | undefined {
    const e = this.#entries.get(key);
    this.#entries.delete(key);
    return e;
  }

  get size(): number {
    return this.#entries.size;
  }

  get evicted(): number {
    return this.#evicted;
  }
}
