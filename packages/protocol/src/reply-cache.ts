// The last reply sent to each client on a service, keyed by job/client/round/step/kind, so a retried
// request is answered again instead of being applied twice. One entry per client bounds the memory.

import type { EncodedFrame } from "./frame.js";

export interface CachedReply {
  readonly key: string;
  readonly reply: EncodedFrame;
}

export class ReplyCache {
  readonly #byClient = new Map<string, CachedReply>();
  readonly #maxClients: number;

  constructor(maxClients = 4096) {
    this.#maxClients = maxClients;
  }

  get(client: string, key: string): EncodedFrame | undefined {
    const hit = this.#byClient.get(client);
    return hit !== undefined && hit.key === key ? hit.reply : undefined;
  }

  set(client: string, key: string, reply: EncodedFrame): void {
    this.#byClient.delete(client);
    this.#byClient.set(client, { key, reply });
    if (this.#byClient.size > this.#maxClients) {
      const oldest = this.#byClient.keys().next().value as string;
      this.#byClient.delete(oldest);
    }
  }
}

/** The idempotency key of a request: a retry carries the same one. */
export function idempotencyKey(h: {
  job: string;
  client: string;
  round: number;
  step: number;
  kind: string;
}): string {
  return `${h.job}/${h.client}/${h.round}/${h.step}/${h.kind}`;
}
