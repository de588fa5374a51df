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
import { runBundleFix } from "./bundle.js";

/**
 * Forward FLOPs of one sample through head + body + tail of the bundle (text: at the job's length).
 * A graph that does not read (damaged since a finished run whose result is reused: no process opened
 * it) is told with the command that prepares it again from `modelPath`, as the run's processes say it.
 */
export function wholeForwardFlops(bundleDir: string, c: RunConfig, modelPath: string): number {
  const bundleFix = runBundleFix(c, bundleDir, modelPath);
  const bundle = PartitionBundle.load(bundleDir, { ...textBundleConfig(c), bundleFix });
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
