// metrics.json and its plots as a session writes them after each round it records: each file replaced
// whole (written beside it, then renamed over it), metrics.json last, so a session killed at any
// point leaves the file of its last recorded round or of the one before, never a cut one.
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { accuracySvg, trafficSvg } from "./plots.js";
import { RunMetricsSchema, type RunMetrics } from "./metrics.js";
import { partialOf, RUN_FILES } from "./run-dir.js";

/** Replaces `path` with `text` at once: a reader, or a killed writer's next session, sees either. */
export function replaceFile(path: string, text: string): void {
  const partial = partialOf(path);
  writeFileSync(partial, text);
  renameSync(partial, path);
}

/**
 * metrics.json (validated against its schema before writing), accuracy.svg and traffic.svg. The plots
 * go first: metrics.json is what a resumed session reads, and its replacement is the point at which
 * a round counts as recorded (ADR 0041, amendment 4).
 */
export function writeMetricsFiles(dir: string, metrics: RunMetrics): void {
  RunMetricsSchema.parse(metrics);
  replaceFile(join(dir, RUN_FILES.accuracy), accuracySvg([metrics]));
  replaceFile(join(dir, RUN_FILES.traffic), trafficSvg([metrics]));
  replaceFile(join(dir, RUN_FILES.metrics), `${JSON.stringify(metrics, null, 2)}\n`);
}
