// What a client process gives the trainer of its method, and the shape of that trainer: the seam
// between the client's round loop (client.ts) and the methods' training (trainer.ts, fl-full).
import type { RunConfig } from "@sfprompt/api";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import type { Dataset } from "../datasets/dataset.js";
import type { Logger } from "../runtime/logger.js";
import type { ReportRequest } from "../runtime/messages.js";
import type { ParamSet } from "../training/param-set.js";
import type { RoundUpdate } from "./trainer.js";

/**
 * Trains round `round` of `rounds` from the global parameters (split, FL + prompt, or whole-model);
 * `rounds` is the server's, the length of the learning-rate schedule (ADR 0024).
 */
export type RoundTrainer = ((round: number, global: ParamSet, rounds: number) => Promise<RoundUpdate>) & {
  /** Frees what the trainer opened (sessions), when the client stops. */
  release?: () => Promise<void>;
};

/** What a client's trainer may use. */
export interface ClientContext {
  readonly config: RunConfig;
  readonly index: number;
  readonly name: string;
  readonly bundle: PartitionBundle;
  readonly data: Dataset;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  report(state: ReportRequest & { op: "state" }): Promise<void>;
}
