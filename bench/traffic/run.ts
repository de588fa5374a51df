// Traffic benchmark: the planner (`sfprompt traffic`) on (a) the demo job as written, set beside the
// measured `--compare` run, and (b) a ViT-B/16 at 224×224 (86.6 M weights, random: only shapes
// matter) with 1 head block, 10 prompt tokens, 8 clients, γ = 0.5, for several samples per client and
// activation codecs. Writes bench/results/traffic.{json,md}.
// Usage: npm run bench:traffic -- [--measured runs/demo-compare] [--samples 50,100,250,500,1000]
//        [--codecs f32,f16,int8] [--rounds 15] [--out bench/results]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Codec } from "@sfprompt/api";
import { buildDemoVit, compareMethodTraffic, ExchangeSizer, trafficShapesOfModel } from "@sfprompt/core";
import { planJobTraffic, splitOptionsOf, trafficJob } from "@sfprompt/cli";
import { toRunConfig } from "@sfprompt/api";
import { measuredAgainstPlan } from "./measured.js";
import { vitBaseMarkdown, demoMarkdown, type VitBaseRow } from "./report.js";
import { VIT_B16 } from "../models.js";

const DEMO_JOB = "examples/demo-job.yaml";

const { values } = parseArgs({
  options: {
    measured: { type: "string", default: "runs/demo-compare" },
    samples: { type: "string", default: "50,100,250,500,1000" },
    codecs: { type: "string", default: "f32,f16,int8" },
    rounds: { type: "string", default: "15" },
    out: { type: "string", default: "bench/results" },
  },
});

const args = process.argv.slice(2);
const command = args.length === 0 ? "npm run bench:traffic" : `npm run bench:traffic -- ${args.join(" ")}`;

async function demo(): Promise<{ markdown: string[]; json: unknown }> {
  const plan = await planJobTraffic(DEMO_JOB, {});
  const measured = measuredAgainstPlan(values.measured, trafficJob(DEMO_JOB, {}), plan.comparison);
  return {
    markdown: demoMarkdown(plan, measured, values.measured),
    json: { plan, measured: measured ?? null },
  };
}

function vitBase(): { markdown: string[]; json: unknown } {
  const started = Date.now();
  const { model } = buildDemoVit(VIT_B16, 0);
  let weights = 0;
  for (const t of model.graph.initializers.values()) weights += t.dims.reduce((a, b) => a * b, 1);
  const samples = values.samples.split(",").map(Number);
  const codecs = values.codecs.split(",") as Codec[];
  const base = { headBlocks: 1, promptLength: 10, clients: 8, gamma: 0.5, rounds: Number(values.rounds) };
  // the demo job's other settings (batch 32, 1 local + 1 split epoch, 10 classes); the model is ViT-B
  const job0 = trafficJob(DEMO_JOB, base);
  const shapes = trafficShapesOfModel(model, splitOptionsOf(toRunConfig(job0)));
  const sizer = new ExchangeSizer(job0.spec.transport.maxPayload);
  const rows: VitBaseRow[] = [];
  for (const codec of codecs) {
    const job = trafficJob(DEMO_JOB, { ...base, activationCodec: codec });
    for (const n of samples) {
      const c = compareMethodTraffic({ job, shapes, samplesPerClient: new Array<number>(8).fill(n), sizer });
      rows.push({ codec, samplesPerClient: n, comparison: c });
      process.stderr.write(
        `ViT-B/16 ${codec} n=${n}: done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
      );
    }
  }
  return {
    markdown: vitBaseMarkdown(rows, weights, VIT_B16),
    json: {
      model: { ...VIT_B16, weights },
      settings: base,
      rows: rows.map((r) => ({
        codec: r.codec,
        samplesPerClient: r.samplesPerClient,
        shapes: r.comparison.shapes,
        breakEven: r.comparison.breakEven,
        methods: r.comparison.methods.map((m) => ({
          method: m.method,
          perRound: m.perRound,
          total: m.total,
          byKind: m.byKind,
          vsSflPrompt: m.vsSflPrompt,
          vsFlFull: m.vsFlFull,
        })),
      })),
    },
  };
}

const a = await demo();
const b = vitBase();
mkdirSync(values.out, { recursive: true });
writeFileSync(
  join(values.out, "traffic.json"),
  `${JSON.stringify({ command, at: new Date().toISOString(), demo: a.json, vitBase: b.json }, null, 2)}\n`,
);
const header = [
  "# Traffic per method, computed by the planner (`sfprompt traffic`)",
  "",
  `Written by \`${command}\` (bench/traffic/run.ts). Every byte is a frame encoded by packages/protocol's`,
  "encoder with the real tensor names, shapes and codecs (headers, chunks above max_payload and their",
  "acks included), counted as the server's ledger counts them; `packages/sfprompt/test/traffic` checks",
  "the planner against the ledger of real jobs. What each method sends: docs/traffic.md.",
  "",
];
writeFileSync(join(values.out, "traffic.md"), [...header, ...a.markdown, "", ...b.markdown, ""].join("\n"));
process.stderr.write(`wrote ${join(values.out, "traffic.md")} and traffic.json\n`);
