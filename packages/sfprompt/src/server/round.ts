// One open round: who was selected, which uploads arrived (streamed into the FedAvg accumulator), and
// the wait for "all uploaded" or the round deadline.
import { FedAvgAccumulator } from "../training/fedavg.js";
import type { ParamSet } from "../training/param-set.js";
import type { UploadMeta, UploadReply } from "../runtime/messages.js";

export type CloseReason = "all-uploaded" | "deadline" | "aborted";

export class OpenRound {
  readonly uploads = new Map<string, UploadMeta>();
  readonly accumulator: FedAvgAccumulator;
  readonly startedAt = new Date();
  readonly deadline: Date;
  closed = false;
  #wake: (() => void) | undefined;

  constructor(
    readonly round: number,
    readonly attempt: number,
    readonly selected: readonly string[],
    layout: ParamSet,
    timeoutMs: number,
  ) {
    this.accumulator = new FedAvgAccumulator(layout);
    this.deadline = new Date(this.startedAt.getTime() + timeoutMs);
  }

  isSelected(client: string): boolean {
    return this.selected.includes(client);
  }

  /** Adds an upload to the running FedAvg; refuses late, unselected or repeated ones. */
  accept(client: string, params: ParamSet, meta: UploadMeta): UploadReply {
    if (this.closed || meta.round !== this.round) return { accepted: false, reason: "round-closed" };
    if (!this.isSelected(client)) return { accepted: false, reason: "not-selected" };
    if (this.uploads.has(client)) return { accepted: true, reason: "duplicate" };
    this.accumulator.add({ clientId: client, params, samples: meta.samples });
    this.uploads.set(client, meta);
    if (this.uploads.size === this.selected.length) this.#wake?.();
    return { accepted: true };
  }

  /** Resolves when every selected client uploaded, at the deadline, or on abort. */
  wait(signal?: AbortSignal): Promise<CloseReason> {
    if (this.uploads.size === this.selected.length) return Promise.resolve("all-uploaded");
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish("deadline"), Math.max(0, this.deadline.getTime() - Date.now()));
      const onAbort = (): void => finish("aborted");
      const finish = (r: CloseReason): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#wake = undefined;
        resolve(r);
      };
      this.#wake = () => finish("all-uploaded");
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
