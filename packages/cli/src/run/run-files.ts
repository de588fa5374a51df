// The names `sfprompt run` writes in its run directory: what a fresh start removes, and what the
// run-folder check takes for a run's own names.

export const RUN_FILES = {
  metrics: "metrics.json",
  accuracy: "accuracy.svg",
  traffic: "traffic.svg",
  params: "params.bin",
  trained: "model",
  summary: "summary.md",
  compare: "compare.md",
  compareJson: "compare.json",
  compareAccuracy: "compare-accuracy.svg",
  compareTraffic: "compare-traffic.svg",
  compareAccuracyByBytes: "compare-accuracy-by-bytes.svg",
  bundle: "bundle",
  nats: "nats",
  logs: "logs",
  configs: "config",
  methods: "methods",
} as const;

/**
 * Where a run file is written before it replaces `path` (metrics-files.ts); one writer per run
 * directory (its lock), so the name needs no pid.
 */
export function partialOf(path: string): string {
  return `${path}.partial`;
}

/**
 * What a fresh start removes: only the entries a run writes (a killed session's partial files
 * included), never anything else in the folder.
 */
export const OWNED: readonly string[] = Object.values(RUN_FILES).flatMap((f) => [f, partialOf(f)]);
