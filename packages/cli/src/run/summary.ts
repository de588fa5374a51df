// summary.md of a run directory: what ran, how it ended, where the files are.
import { jobPartitioning, type RunConfig } from "@sfprompt/api";
import type { DemoModelCard } from "@sfprompt/core";
import { compareMarkdown, compareVerdict, METHOD_LABELS, type CompareRow } from "./compare.js";
import { ownRounds, totalBytes, type RunMetrics } from "./metrics.js";
import { RUN_FILES } from "./run-dir.js";
import { formatBytes } from "@sfprompt/protocol/charts";
import { plural } from "../plural.js";

export interface SummaryInput {
  readonly config: RunConfig;
  readonly metrics: RunMetrics;
  readonly modelPath: string;
  readonly card?: DemoModelCard;
  readonly resumed: boolean;
  readonly seconds: number;
  readonly compare?: readonly CompareRow[];
}

/**
 * The rounds another job trained (spec.output.resumeFrom), said next to a traffic figure that leaves
 * them out: "" when none.
 */
export function inheritedNote(m: RunMetrics): string {
  if (m.resumedFrom === undefined) return "";
  const { job, round } = m.resumedFrom;
  const rounds = round === 1 ? "round 1 was" : `rounds 1–${round} were`;
  return ` (${rounds} trained by job ${job}, which this job went on from)`;
}

/** "12 kB over 1 round (round 1 was trained by job a, …)": the job's own traffic and rounds. */
export function trafficLine(m: RunMetrics): string {
  return `${formatBytes(totalBytes(m))} over ${plural(ownRounds(m).length, "round")}${inheritedNote(m)}`;
}

function roundsTable(m: RunMetrics): string[] {
  return [
    "| round | loss | accuracy | bytes | clients | time |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...m.rounds.map(
      (r) =>
        `| ${r.round}${r.from === undefined ? "" : ` (${r.from})`} | ${r.loss.toFixed(4)} | ${(r.accuracy * 100).toFixed(2)} % | ${formatBytes(r.bytes.total)} | ` +
        `${r.clients.length} | ${(r.durationMs / 1000).toFixed(1)} s |`,
    ),
  ];
}

/** The Markdown text of summary.md. */
export function summaryMarkdown(s: SummaryInput): string {
  const { config: c, metrics: m } = s;
  const acc = m.final?.accuracy ?? m.rounds.at(-1)?.accuracy;
  const d = c.data;
  const p = jobPartitioning(d, "one-machine");
  const source = d.source.builtin ?? d.source.imageFolder?.path ?? d.source.jsonl?.path ?? "?";
  const lines = [
    `# ${c.job.name}: ${METHOD_LABELS[c.method]}`,
    "",
    `- method: ${c.method}; ${plural(c.clients.count, "client")} (${c.clients.perRound} per round), ${plural(c.training.rounds, "round")}` +
      `${s.resumed ? " (resumed from the run directory's checkpoint)" : ""}` +
      (m.resumedFrom === undefined
        ? ""
        : `; went on from job ${m.resumedFrom.job}'s checkpoint of round ${m.resumedFrom.round} (spec.output.resumeFrom)`),
    `- data: ${source}, ${p.strategy}${p.strategy === "dirichlet" ? ` α = ${p.alpha}` : ""}`,
    `- model: ${s.modelPath}` +
      (s.card
        ? ` (demo ViT pre-trained by this project on Fashion-MNIST, test accuracy ${(s.card.testAccuracy * 100).toFixed(1)} %)`
        : ""),
    `- split: ${plural(c.model.split.headBlocks, "head block")}, pooling ${c.model.split.pooling}; ${plural(c.prompts.length, "prompt token")}`,
    `- final accuracy: ${acc === undefined ? "n/a" : `${(acc * 100).toFixed(2)} %`}; traffic: ${trafficLine(m)}`,
    `- wall time: ${Math.round(s.seconds)} s`,
    "",
    "## Rounds",
    "",
    ...roundsTable(m),
    "",
    "## Files",
    "",
    `- \`${RUN_FILES.metrics}\`: per-round loss, accuracy, bytes by kind, clients, time`,
    `- \`${RUN_FILES.accuracy}\`, \`${RUN_FILES.traffic}\`: plots per round`,
    `- \`${RUN_FILES.params}\`: the trained prompt + tail (ParamSet codec)`,
    `- \`${RUN_FILES.trained}/\`: the partition bundle with the trained values as defaults, and model.onnx (whole model)`,
    `- \`${RUN_FILES.logs}/\`: JSON logs of the server and each client; nats.log, the log of the nats-server it started`,
  ];
  if (s.compare !== undefined) {
    lines.push("", "## Comparison (same job, data and engine)", "", compareMarkdown(s.compare).trimEnd());
    const verdict = compareVerdict(s.compare);
    if (verdict.length > 0) lines.push("", ...verdict.map((v) => `- ${v}`));
  }
  return `${lines.join("\n")}\n`;
}
