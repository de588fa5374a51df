// The demo comparison as it was measured (`sfprompt run examples/demo-job.yaml --compare`): bytes per
// kind summed over the rounds of each method's metrics.json, beside the planner's numbers.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ExchangeSizer, pollExchange, type MethodTraffic, type TrafficComparison } from "@sfprompt/core";
import { methodRunConfig, type TrafficMethod } from "@sfprompt/core";
import type { SFPromptJob } from "@sfprompt/api";

const KINDS = ["activation", "gradient", "parameters", "control"] as const;
type Kind = (typeof KINDS)[number];

interface MetricsFile {
  rounds: { bytes: { total: number; byKind: Partial<Record<Kind, number>> } }[];
}

export interface MeasuredRow {
  readonly method: TrafficMethod;
  readonly measured: Record<Kind | "total", number>;
  readonly planned: Record<Kind | "total", number>;
  /** measured − planned, per kind. */
  readonly difference: Record<Kind | "total", number>;
  /** The control difference in "wait" polls (request + reply) of the demo's size. */
  readonly waitPolls: number;
  readonly waitPollBytes: number;
}

function metricsPath(dir: string, method: TrafficMethod): string {
  return method === "sfprompt" ? join(dir, "metrics.json") : join(dir, "methods", method, "metrics.json");
}

function sumKinds(file: MetricsFile): Record<Kind | "total", number> {
  const out = { activation: 0, gradient: 0, parameters: 0, control: 0, total: 0 };
  for (const r of file.rounds) {
    for (const k of KINDS) out[k] += r.bytes.byKind[k] ?? 0;
    out.total += r.bytes.total;
  }
  return out;
}

/** Reads a `--compare` run directory; undefined when it is not there. */
export function measuredAgainstPlan(
  dir: string,
  job: SFPromptJob,
  plan: TrafficComparison,
): MeasuredRow[] | undefined {
  if (!existsSync(join(dir, "metrics.json"))) return undefined;
  const sizer = new ExchangeSizer(plan.maxPayload);
  return plan.methods.map((m: MethodTraffic) => {
    const measured = sumKinds(JSON.parse(readFileSync(metricsPath(dir, m.method), "utf8")) as MetricsFile);
    const planned = { ...m.byKind, total: m.total };
    const difference = Object.fromEntries(
      (Object.keys(planned) as (Kind | "total")[]).map((k) => [k, measured[k] - planned[k]]),
    ) as Record<Kind | "total", number>;
    // a poll answered "wait" after round 5 (one-digit lastRound, as most are)
    const wait = sizer.size(pollExchange(methodRunConfig(job, m.method), "client-0", 5, { action: "wait" }));
    const waitPollBytes = wait.up[0]!.bytes + wait.down[0]!.bytes;
    return {
      method: m.method,
      measured,
      planned,
      difference,
      waitPolls: difference.control / waitPollBytes,
      waitPollBytes,
    };
  });
}
