// Which clients train a round: waits until clients.perRound are ready (polling), or selectionWaitMs
// passed with at least the quorum ready, then draws perRound of them with the job's seed.
import type { RunConfig } from "@sfprompt/api";
import { Rng, deriveSeed } from "../datasets/rng.js";
import type { Logger } from "../runtime/logger.js";
import { pause } from "../runtime/pause.js";
import type { ClientRegistry } from "./registry.js";

export interface SelectionOptions {
  readonly config: RunConfig;
  readonly registry: ClientRegistry;
  readonly logger: Logger;
  readonly pollWaitMs: number;
  readonly selectionWaitMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** The selection of `round`'s `attempt` (a round run again after a failed quorum draws anew). */
export async function selectClients(o: SelectionOptions, round: number, attempt: number): Promise<string[]> {
  const { perRound } = o.config.clients;
  const quorum = o.config.training.quorum;
  const since = Date.now();
  let lastLog = since;
  for (;;) {
    o.signal?.throwIfAborted();
    const ready = o.registry.ready(o.pollWaitMs + 1000);
    const enough = ready.length >= perRound;
    const late = Date.now() - since >= o.selectionWaitMs && ready.length >= Math.max(1, quorum);
    if (enough || late) {
      const rng = new Rng(deriveSeed(o.config.training.seed, 0x73656c, round, attempt));
      return rng
        .shuffle([...ready].map((_, i) => i))
        .slice(0, perRound)
        .map((i) => ready[i]!)
        .sort();
    }
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      o.logger.log("info", "waiting-for-clients", { round, ready, wanted: perRound, quorum });
    }
    await pause(100, o.signal);
  }
}
