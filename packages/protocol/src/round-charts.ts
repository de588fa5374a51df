// accuracy.svg and traffic.svg of a run: the charts `sfprompt run` writes into its run directory and
// the operator serves per job. Structural inputs, so the CLI's metrics.json and the operator's round
// history draw the very same bytes.
import { formatBytes, lineChartSvg, type Series } from "./svg-chart.js";

/** A finished round as the charts need it. */
export interface ChartRound {
  readonly round: number;
  /** Held-out accuracy in [0, 1]. */
  readonly accuracy: number;
  /** Bytes of the round, up + down, in all and by kind. */
  readonly bytes: { readonly total: number; readonly byKind: Readonly<Record<string, number>> };
}

/** One run's rounds: a line per run (or, for one run's traffic, a line per kind). */
export interface ChartRun {
  readonly job: string;
  readonly method: string;
  readonly rounds: readonly ChartRound[];
}

/** Held-out accuracy after each round, one line per run. */
export function accuracySvg(runs: readonly ChartRun[]): string {
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
export function trafficSvg(runs: readonly ChartRun[]): string {
  let series: Series[];
  if (runs.length === 1) {
    const m = runs[0] as ChartRun;
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
