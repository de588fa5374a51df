// The client-compute share of a method (method notes, "Accounting"): the runtime's measured client
// FLOPs per round over those of an FL full fine-tuning client doing the same epochs on the same data
// (3 × whole-model forward per sample); computed by @sfprompt/core's runComputeShare.
import { join } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import { perSampleFlops, runComputeShare, type RoundMetrics } from "@sfprompt/core";
import { readModel, readPartitionManifest } from "@sfprompt/engine";

/** Forward FLOPs of one sample through head + body + tail of the bundle. */
export function wholeForwardFlops(bundleDir: string): number {
  const m = readPartitionManifest(bundleDir);
  return m.partitions.reduce((a, p) => a + perSampleFlops(readModel(join(bundleDir, p.file))), 0);
}

/** The share over the server's round history; undefined when no round did client work. */
export function clientFlopsShare(
  c: RunConfig,
  wholeForward: number,
  history: readonly RoundMetrics[],
): number | undefined {
  return runComputeShare(c, history, wholeForward) ?? undefined;
}
