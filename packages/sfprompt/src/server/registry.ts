// The clients the coordinator knows: when each last polled, its state, and a change signal that wakes
// long-polls when a round opens or the job ends.
import type { ClientState } from "@sfprompt/protocol";
import { isJobClient } from "../runtime/client-names.js";

interface Entry {
  lastPollAt: number;
  state: ClientState;
  polling: number;
}

export class ClientRegistry {
  readonly #entries = new Map<string, Entry>();
  #changed: { promise: Promise<void>; resolve: () => void };

  constructor(readonly names: readonly string[]) {
    this.#changed = deferred();
  }

  isKnown(client: string): boolean {
    return isJobClient(this.names, client);
  }

  /** Records a poll; returns true the first time the client is seen. */
  touch(client: string): boolean {
    const e = this.#entries.get(client);
    if (e === undefined) {
      this.#entries.set(client, { lastPollAt: Date.now(), state: "connected", polling: 0 });
      return true;
    }
    e.lastPollAt = Date.now();
    return false;
  }

  setState(client: string, state: ClientState): boolean {
    const e = this.#entries.get(client);
    if (e === undefined || e.state === state) return false;
    e.state = state;
    return true;
  }

  stateOf(client: string): ClientState | undefined {
    return this.#entries.get(client)?.state;
  }

  /** Marks a long-poll as waiting (or done waiting). */
  polling(client: string, delta: 1 | -1): void {
    const e = this.#entries.get(client);
    if (e !== undefined) {
      e.polling += delta;
      e.lastPollAt = Date.now();
    }
  }

  /** Clients waiting for work now, or that polled within `withinMs`, sorted by name. */
  ready(withinMs: number, exclude: ReadonlySet<string> = new Set()): string[] {
    const now = Date.now();
    return [...this.#entries]
      .filter(([name, e]) => !exclude.has(name) && (e.polling > 0 || now - e.lastPollAt <= withinMs))
      .map(([name]) => name)
      .sort();
  }

  /** Resolves at the next change() or after `ms`. */
  async waitChange(ms: number, signal?: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      this.#changed.promise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        onAbort = resolve;
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
  }

  /** Wakes every waiter (a round opened or closed, the job ended). */
  change(): void {
    const old = this.#changed;
    this.#changed = deferred();
    old.resolve();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
