// The client-compute share of a method (method notes, "Accounting"): the runtime's measured client
// FLOPs per round over those of an FL full fine-tuning client doing the same epochs on the same data
// (3 × whole-model forward per sample); computed by @sfprompt/core's runComputeShare.
import type { RunConfig } from "@sfprompt/api";
import {
  ownRounds,
  graphFileFlops,
  PartitionBundle,
  runComputeShare,
  textBundleConfig,
  type RoundMetrics,
} from "@sfprompt/core";

/** Forward FLOPs of one sample through head + body + tail of the bundle (text: at the job's length). */
export function wholeForwardFlops(bundleDir: string, c: RunConfig): number {
  const bundle = PartitionBundle.load(bundleDir, textBundleConfig(c));
  const dims = bundle.symbolicDims();
  // each graph without its weights (ADR 0006 amendment 8)
  return bundle.manifest.partitions.reduce((a, p) => a + graphFileFlops(bundle, p.file, dims), 0);
}

/**
 * The share over the server's round history; undefined when no round did client work. `inherited`:
 * the rounds another job trained (spec.output.resumeFrom, metrics.json's resumedFrom); those rounds'
 * clients are not this job's, so they are left out.
 */
export function clientFlopsShare(
  c: RunConfig,
  wholeForward: number,
  history: readonly RoundMetrics[],
  inherited?: { readonly round: number },
): number | undefined {
  return runComputeShare(c, ownRounds(history, inherited), wholeForward) ?? undefined;
}
