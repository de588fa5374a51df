// The last reply sent to each client on a service, keyed by job/client/round/step/kind, so a retried
// request is answered again instead of being applied twice. One entry per client bounds the memory.

export interface CachedReply {
  readonly key: string;
  readonly frames: readonly Uint8Array[];
}

export class ReplyCache {
  readonly #byClient = new Map<string, CachedReply>();
  readonly #maxClients: number;

  constructor(maxClients = 4096) {
    this.#maxClients = maxClients;
  }

  get(client: string, key: string): readonly Uint8Array[] | undefined {
    const hit = this.#byClient.get(client);
    return hit !== undefined && hit.key === key ? hit.frames : undefined;
  }

  set(client: string, key: string, frames: readonly Uint8Array[]): void {
    this.#byClient.delete(client);
    this.#byClient.set(client, { key, frames });
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
