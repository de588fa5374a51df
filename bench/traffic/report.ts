// Markdown of the traffic benchmark: the demo plan beside the measured run, and the ViT-B/16 sweep.
import type { Codec } from "@sfprompt/api";
import type { TrafficComparison } from "@sfprompt/core";
import { breakEvenLine, formatBytes, trafficHeader, trafficTable, type JobTrafficPlan } from "@sfprompt/cli";
import type { MeasuredRow } from "./measured.js";

const LABELS: Record<string, string> = {
  sfprompt: "SFPrompt",
  "sfl-prompt": "SFL + prompt",
  "fl-prompt": "FL + prompt",
  "fl-full": "FL full fine-tuning",
};

const bytes = formatBytes;

function exact(n: number): string {
  return n.toLocaleString("en-US");
}

function signed(n: number): string {
  return n > 0 ? `+${exact(n)}` : exact(n);
}

export function demoMarkdown(plan: JobTrafficPlan, rows: MeasuredRow[] | undefined, dir: string): string[] {
  const c = plan.comparison;
  const out = [
    "## (a) The demo job as written (`sfprompt traffic examples/demo-job.yaml`)",
    "",
    ...trafficHeader(c, plan.model, plan.samples).map((l) => `${l}  `),
    "",
    ...trafficTable(c),
    "",
    breakEvenLine(c),
    "",
  ];
  if (rows === undefined) {
    return [
      ...out,
      `(No measured run in ${dir}: run \`sfprompt run examples/demo-job.yaml --compare --out ${dir}\` to set one beside the plan.)`,
    ];
  }
  out.push(
    `### Planned against measured (${dir}: a \`--compare\` run of the demo job on the tree that wrote this file)`,
    "",
    "Bytes summed over the 15 rounds of each method's metrics.json (as the server counted them), minus the plan:",
    "",
    "| method | measured total | planned total | Δ activation | Δ gradient | Δ parameters | Δ control | Δ control in wait polls |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const r of rows) {
    const d = r.difference;
    out.push(
      `| ${LABELS[r.method]} | ${exact(r.measured.total)} | ${exact(r.planned.total)} | ${signed(d.activation)} | ` +
        `${signed(d.gradient)} | ${signed(d.parameters)} | ${signed(d.control)} | ${r.waitPolls.toFixed(2)} × ${r.waitPollBytes} B |`,
    );
  }
  out.push(
    "",
    "Activations and gradients match to the byte. The parameter frames differ by the digits of the",
    "loss, local loss and FLOPs numbers each upload's header carries (the plan writes typical values;",
    'a few bytes per upload). The control difference is polls answered "wait" (the client asked for',
    "the next round while the server was still aggregating, evaluating and checkpointing): how many",
    "depends on timing, not on the method, and is a few kB in a job of hundreds of MB (the counts",
    "are a hair above whole numbers because polls after round 9 carry a two-digit round, one byte more).",
  );
  return out;
}

export interface VitBaseRow {
  readonly codec: Codec;
  readonly samplesPerClient: number;
  readonly comparison: TrafficComparison;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

export function vitBaseMarkdown(rows: VitBaseRow[], weights: number, arch: Record<string, number>): string[] {
  const first = rows[0]!.comparison;
  const sizes = Object.entries(arch)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const out = [
    "## (b) ViT-B/16 at 224×224",
    "",
    `The project's ViT builder (packages/sfprompt/src/demo/vit-builder.ts) at ViT-B/16's sizes (${sizes}):`,
    `${exact(weights)} weights, random (only shapes matter for bytes). Split as the demo job splits`,
    `(1 head block, 10 prompt tokens, a new 10-class`,
    `classifier): head output [${first.shapes.headOutput.join(", ")}] and body output [${first.shapes.bodyOutput.join(", ")}] per sample;`,
    `prompt + tail ${exact(first.shapes.promptTailWeights)} weights; FL full fine-tuning ships ${exact(first.shapes.wholeModelWeights)}.`,
    `8 clients, all selected, ${first.rounds} rounds, γ = ${first.gamma}, batch 32, 1 local + 1 split epoch, the`,
    "demo job's other settings; parameters in f32; the codec column applies to activations and gradients",
    "both ways. Every client holds the same number of samples.",
    "",
    "| act. codec | samples / client | SFPrompt / round | SFL + prompt / round | FL + prompt / round | FL full / round | SFPrompt vs SFL + prompt | SFPrompt vs FL full |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const m = Object.fromEntries(r.comparison.methods.map((x) => [x.method, x]));
    const s = m["sfprompt"]!;
    out.push(
      `| ${r.codec} | ${exact(r.samplesPerClient)} | ${bytes(s.perRound)} | ${bytes(m["sfl-prompt"]!.perRound)} | ` +
        `${bytes(m["fl-prompt"]!.perRound)} | ${bytes(m["fl-full"]!.perRound)} | ${pct(s.vsSflPrompt)} | ${pct(s.vsFlFull)} |`,
    );
  }
  out.push("", "Break-even against FL full fine-tuning, per activation codec:", "");
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.codec)) continue;
    seen.add(r.codec);
    out.push(`- ${r.codec}: ${breakEvenLine(r.comparison).replace(/^break-even: /, "")}`);
  }
  return out;
}
