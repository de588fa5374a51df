// The --compare table: SFPrompt and each baseline run on the same job, data and engine, side by side
// (accuracy, total bytes, traffic relative to SFL + prompt, client FLOPs share).
import type { Method } from "@sfprompt/api";
import { bytesCurve, totalBytes, type CurvePoint, type RunMetrics } from "./metrics.js";
import { formatBytes } from "@sfprompt/protocol/charts";

export const METHOD_LABELS: Record<Method, string> = {
  sfprompt: "SFPrompt",
  "sfl-prompt": "SFL + prompt",
  "fl-prompt": "FL + prompt",
  "fl-full": "FL full fine-tuning",
  centralized: "centralised prompt tuning",
};

/** The order the table lists methods in. */
export const COMPARE_ORDER: readonly Method[] = [
  "sfprompt",
  "sfl-prompt",
  "fl-prompt",
  "fl-full",
  "centralized",
];

export interface MethodResult {
  readonly method: Method;
  readonly metrics: RunMetrics;
  /** Client FLOPs per round / those of an FL full fine-tuning client (undefined: not measured). */
  readonly clientFlopsShare?: number;
  readonly seconds: number;
}

export interface CompareRow {
  readonly method: Method;
  readonly label: string;
  readonly accuracy: number;
  readonly bytes: number;
  /** bytes / bytes of SFL + prompt (undefined when that baseline did not run or sent nothing). */
  readonly bytesVsSfl?: number;
  readonly clientFlopsShare?: number;
  readonly seconds: number;
  /** After each round: the round, the bytes sent up to it and the held-out accuracy. */
  readonly curve: readonly CurvePoint[];
}

/** The first point of `curve` at or above `accuracy` (undefined: never reached). */
export function firstReaching(curve: readonly CurvePoint[], accuracy: number): CurvePoint | undefined {
  return curve.find((p) => p.accuracy >= accuracy - 1e-12);
}

function finalAccuracy(m: RunMetrics): number {
  return m.final?.accuracy ?? m.rounds.at(-1)?.accuracy ?? 0;
}

/** One row per method, in COMPARE_ORDER. */
export function compareRows(results: readonly MethodResult[]): CompareRow[] {
  const sfl = results.find((r) => r.method === "sfl-prompt");
  const sflBytes = sfl === undefined ? 0 : totalBytes(sfl.metrics);
  return [...results]
    .sort((a, b) => COMPARE_ORDER.indexOf(a.method) - COMPARE_ORDER.indexOf(b.method))
    .map((r) => {
      const bytes = totalBytes(r.metrics);
      return {
        method: r.method,
        label: METHOD_LABELS[r.method],
        accuracy: finalAccuracy(r.metrics),
        bytes,
        ...(sflBytes > 0 ? { bytesVsSfl: bytes / sflBytes } : {}),
        ...(r.clientFlopsShare === undefined ? {} : { clientFlopsShare: r.clientFlopsShare }),
        seconds: r.seconds,
        curve: bytesCurve(r.metrics),
      };
    });
}

function pct(v: number | undefined, digits = 1): string {
  return v === undefined ? "n/a" : `${(v * 100).toFixed(digits)} %`;
}

/** The table as Markdown. */
export function compareMarkdown(rows: readonly CompareRow[]): string {
  const lines = [
    "| method | accuracy | total bytes | bytes vs SFL + prompt | client FLOPs share | wall time |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${pct(r.accuracy, 2)} | ${formatBytes(r.bytes)} | ${pct(r.bytesVsSfl)} | ` +
        `${pct(r.clientFlopsShare, 2)} | ${Math.round(r.seconds)} s |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** The bar, checked on the rows: SFPrompt within 2 points of SFL + prompt, ≥ 50 % less traffic. */
export function compareVerdict(rows: readonly CompareRow[]): string[] {
  const sfp = rows.find((r) => r.method === "sfprompt");
  const sfl = rows.find((r) => r.method === "sfl-prompt");
  const full = rows.find((r) => r.method === "fl-full");
  if (sfp === undefined || sfl === undefined) return [];
  const gap = (sfl.accuracy - sfp.accuracy) * 100;
  const out = [
    `accuracy: SFPrompt ${pct(sfp.accuracy, 2)} vs SFL + prompt ${pct(sfl.accuracy, 2)} ` +
      `(${gap <= 2 ? "within" : "NOT within"} 2 points: gap ${gap.toFixed(2)})`,
  ];
  if (sfl.bytes > 0) {
    const saved = 1 - sfp.bytes / sfl.bytes;
    out.push(
      `traffic: SFPrompt sends ${pct(saved)} less than SFL + prompt (${saved >= 0.5 ? "meets" : "misses"} the 50 % bar)`,
    );
  }
  if (full !== undefined && full.bytes > 0)
    out.push(`traffic: SFPrompt sends ${pct(sfp.bytes / full.bytes)} of FL full fine-tuning's bytes`);
  const perByte = perByteVerdict(sfp, sfl);
  if (perByte !== undefined) out.push(perByte);
  return out;
}

// Saving bytes per round is worth it only if the accuracy comes at no more bytes in all: compare the
// bytes each method sent before it first reached SFPrompt's final accuracy.
function perByteVerdict(sfp: CompareRow, sfl: CompareRow): string | undefined {
  const own = firstReaching(sfp.curve, sfp.accuracy);
  if (own === undefined) return undefined;
  const head = `bytes to reach SFPrompt's final ${pct(sfp.accuracy, 2)}: SFPrompt ${formatBytes(own.bytes)} (round ${own.round})`;
  const other = firstReaching(sfl.curve, sfp.accuracy);
  if (other === undefined) return `${head}, SFL + prompt never reached it (SFPrompt is ahead per byte)`;
  const ahead =
    other.bytes < own.bytes
      ? "SFL + prompt is ahead per byte"
      : other.bytes > own.bytes
        ? "SFPrompt is ahead per byte"
        : "even per byte";
  return `${head}, SFL + prompt ${formatBytes(other.bytes)} (round ${other.round}): ${ahead}`;
}
