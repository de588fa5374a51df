// The text `sfprompt traffic` prints (and bench/traffic records): the job's sizes, one row per method,
// and the break-even against FL full fine-tuning.
import type { TrafficComparison } from "@sfprompt/core";
import { METHOD_LABELS } from "../run/compare.js";
import { formatBytes } from "@sfprompt/protocol/charts";
import { plural } from "../plural.js";

function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "–";
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** The header lines: job, clients, rounds, codecs, payload limit and shapes. */
export function trafficHeader(c: TrafficComparison, model: string, samples: string): string[] {
  const k = c.compression;
  const sizes = c.samplesPerClient;
  const total = sizes.reduce((a, b) => a + b, 0);
  // a text model's masks travel beside a_h on every body forward
  const masks = c.shapes.bodyMasks.map((m) => ` + ${m.name} [${m.shape.join(", ")}] int64`).join("");
  return [
    `job ${c.job}: ${plural(c.clients, "client")} (${c.clientsPerRound} per round), ${plural(c.rounds, "round")}, γ = ${c.gamma}, max_payload ${count(c.maxPayload)} B`,
    `codecs: activations ${k.activationsUp}/${k.activationsDown}, gradients ${k.gradientsUp}/${k.gradientsDown}, parameters ${k.parametersUp}/${k.parametersDown} (up/down)`,
    `model: ${model}; head output [${c.shapes.headOutput.join(", ")}]${masks}, body output [${c.shapes.bodyOutput.join(", ")}] per sample; prompt + tail ${plural(c.shapes.promptTailWeights, "weight", "weights", count)}, whole model ${count(c.shapes.wholeModelWeights)}`,
    `samples per client: ${sizes.length <= 12 ? sizes.join(", ") : `${count(total)} in all`} (${samples})`,
  ];
}

/** The methods as a markdown table. */
export function trafficTable(c: TrafficComparison): string[] {
  const rows = c.methods.map(
    (m) =>
      `| ${METHOD_LABELS[m.method]} | ${formatBytes(m.perRound)} | ${formatBytes(m.total)} | ${pct(m.vsSflPrompt)} | ${pct(m.vsFlFull)} |`,
  );
  return [
    "| method | bytes per round | total | vs SFL + prompt | vs FL full |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
  ];
}

/** One sentence on when SFPrompt sends less than FL full fine-tuning. */
export function breakEvenLine(c: TrafficComparison): string {
  const b = c.breakEven;
  if (b.keptPerClient === 0) {
    return "break-even: SFPrompt sends more than FL full fine-tuning even with one sample per client";
  }
  return (
    `break-even: SFPrompt sends less than FL full fine-tuning while each client keeps at most ` +
    `${plural(b.keptPerClient, "sample", "samples", count)} per round (${count(b.samplesPerClient)} before pruning at γ = ${c.gamma}): ` +
    `${count(b.sfpromptPerRound)} B vs ${count(b.flFullPerRound)} B per round there`
  );
}

/** Everything `sfprompt traffic` prints. */
export function trafficReport(c: TrafficComparison, model: string, samples: string): string {
  return [...trafficHeader(c, model, samples), "", ...trafficTable(c), "", breakEvenLine(c)].join("\n");
}
