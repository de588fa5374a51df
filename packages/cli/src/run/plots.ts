// The plots of a run directory: accuracy.svg and traffic.svg from metrics.json (one run, or one line
// per method when --compare ran several), drawn by @sfprompt/protocol/charts, which the operator serves
// too; and for --compare the accuracy against the bytes sent so far.
import { formatBytes, lineChartSvg, type Series } from "@sfprompt/protocol/charts";
import { bytesCurve, type RunMetrics } from "./metrics.js";

export { accuracySvg, trafficSvg } from "@sfprompt/protocol/charts";

/** Held-out accuracy against the bytes sent up to that round (log scale), one line per method that sent any. */
export function accuracyByBytesSvg(runs: readonly RunMetrics[]): string {
  const series: Series[] = runs
    .filter((m) => bytesCurve(m).some((p) => p.bytes > 0))
    .map((m) => ({
      name: m.method,
      points: bytesCurve(m).map((p) => [p.bytes, p.accuracy * 100] as const),
    }));
  return lineChartSvg({
    title: `Held-out accuracy against bytes sent (${runs[0]?.job ?? "job"})`,
    xLabel: "bytes sent so far over NATS (up + down, log scale)",
    yLabel: "accuracy (%)",
    series,
    xScale: "log",
    xFormat: formatBytes,
    yFormat: (v) => `${Number(v.toPrecision(3))}`,
    yInclude: [0, 100],
  });
}
