// The client-compute share of a run (method notes, "Accounting"): client FLOPs per round divided by a
// federated full fine-tuning client doing the same epochs on the same data (3 × forward per sample).
import type { RunConfig } from "@sfprompt/api";
import type { RoundMetrics } from "../server/checkpoints.js";
import { clientComputeShare } from "../training/compute-share.js";

/** Epochs a method's client runs per round (the baseline does as many). */
export function clientEpochs(config: RunConfig): number {
  const local = config.effective.localLoss ? config.training.localEpochs : 0;
  return local + config.training.splitEpochs;
}

/** Mean share over the rounds; null when no round did work. */
export function runComputeShare(
  config: RunConfig,
  rounds: readonly RoundMetrics[],
  wholeForwardPerSample: number,
): number | null {
  const shares: number[] = [];
  for (const r of rounds) {
    const perClient = r.participants.length === 0 ? 0 : r.samples / r.participants.length;
    if (perClient === 0 || clientEpochs(config) === 0 || wholeForwardPerSample === 0) continue;
    shares.push(
      clientComputeShare({
        clientFlops: r.clientFlops,
        fullForwardFlopsPerSample: wholeForwardPerSample,
        samplesPerEpoch: perClient,
        epochs: clientEpochs(config),
      }).share,
    );
  }
  return shares.length === 0 ? null : shares.reduce((a, b) => a + b, 0) / shares.length;
}
