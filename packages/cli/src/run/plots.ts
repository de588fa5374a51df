// accuracy.svg and traffic.svg of a run directory, from metrics.json (one run, or one line per method
// when --compare ran several), and for --compare the accuracy against the bytes sent so far.
import { bytesCurve, type RunMetrics } from "./metrics.js";
import { formatBytes, lineChartSvg, type Series } from "./svg-chart.js";

/** Held-out accuracy after each round, one line per run. */
export function accuracySvg(runs: readonly RunMetrics[]): string {
  const series: Series[] = runs.map((m) => ({
    name: m.method,
    points: m.rounds.map((r) => [r.round, r.accuracy * 100] as const),
  }));
  return lineChartSvg({
    title: `Held-out accuracy per round (${runs[0]?.job ?? "job"})`,
    xLabel: "round",
    yLabel: "accuracy (%)",
    series,
    yFormat: (v) => `${Number(v.toPrecision(3))}`,
    yInclude: [0, 100],
  });
}

/** Bytes on the wire per round: by kind for one run, the total per method for several. */
export function trafficSvg(runs: readonly RunMetrics[]): string {
  let series: Series[];
  if (runs.length === 1) {
    const m = runs[0] as RunMetrics;
    const kinds = [...new Set(m.rounds.flatMap((r) => Object.keys(r.bytes.byKind)))].sort();
    series = [
      { name: "total", points: m.rounds.map((r) => [r.round, r.bytes.total] as const) },
      ...kinds.map((k) => ({
        name: k,
        points: m.rounds.map((r) => [r.round, r.bytes.byKind[k] ?? 0] as const),
      })),
    ];
  } else {
    series = runs.map((m) => ({
      name: m.method,
      points: m.rounds.map((r) => [r.round, r.bytes.total] as const),
    }));
  }
  return lineChartSvg({
    title: `Bytes sent over NATS per round (${runs[0]?.job ?? "job"})`,
    xLabel: "round",
    yLabel: "bytes per round (up + down)",
    series,
    yFormat: formatBytes,
    yInclude: [0],
  });
}

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
