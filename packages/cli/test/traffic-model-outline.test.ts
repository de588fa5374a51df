// sfprompt traffic reads a model file's shapes, not its weights (shapesOnlyModel over
// readModelOutline, ADR 0020 amendment): it read the whole file with readModel though only shapes
// decide the frames. The plan is the one the whole model gave, on real models (the demo ViT, the
// torch ViT export, the ViT with its weights in an external data file, the BERT text export), and
// traffic of a model with 256 MiB of weights peaks near traffic of the tiny one.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { toRunConfig } from "@sfprompt/api";
import {
  buildDemoVit,
  compareMethodTraffic,
  DEMO_RECIPE,
  splitOptionsOf,
  textBundleConfig,
  trafficShapesOfModel,
} from "@sfprompt/core";
import { readModel, writeModel } from "@sfprompt/engine";
import { planJobTraffic, trafficJob } from "../src/traffic/traffic-job.js";
import { BERT_FIXTURE as BERT, letterVocab } from "../../sfprompt/test/runtime/text-fixture.js";
import { ROOT } from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const VIT = fileURLToPath(new URL("../../engine/test/fixtures/torch/vit/model.onnx", import.meta.url));

/** sfprompt traffic as a child process, with its peak RSS (MiB) as node reports it at exit. */
function trafficRss(dir: string, ...args: string[]): { code: number; stderr: string; peakMiB: number } {
  const hook = join(dir, "max-rss.mjs");
  const file = join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    hook,
    'import { writeFileSync } from "node:fs";\n' +
      "process.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const r = spawnSync(
    process.execPath,
    ["--import", hook, "--conditions=source", "--import", "tsx", MAIN, "traffic", ...args],
    { cwd: ROOT, encoding: "utf8", timeout: 180_000, env: { ...process.env, RSS_FILE: file } },
  );
  return { code: r.status ?? -1, stderr: r.stderr, peakMiB: Number(readFileSync(file, "utf8")) / 1024 };
}

describe("sfprompt traffic reads the model's shapes only", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-traffic-outline-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("plans what the whole model planned: demo ViT, torch ViT, external-data ViT, BERT", async () => {
    const demo = join(dir, "demo.onnx");
    writeModel(demo, buildDemoVit(DEMO_RECIPE.architecture, DEMO_RECIPE.pretraining.seed).model);
    mkdirSync(join(dir, "ext"));
    const ext = join(dir, "ext", "vit.onnx");
    writeModel(ext, readModel(VIT), { externalData: { threshold: 0 } });
    const vocab = join(dir, "vocab.txt");
    writeFileSync(vocab, `${letterVocab().join("\n")}\n`);
    const textJob = join(dir, "text.yaml");
    writeFileSync(
      textJob,
      [
        "apiVersion: sfprompt.io/v1alpha1",
        "kind: SFPromptJob",
        "metadata: { name: text }",
        "spec:",
        "  model:",
        `    source: { path: ${JSON.stringify(BERT)} }`,
        "    split: { headBlocks: 1, pooling: mean }",
        `    tokenizer: { vocabulary: ${JSON.stringify(vocab)}, maxLength: 16 }`,
        "  classes: { numClasses: 10 }",
        "  data: { source: { builtin: debian-sections } }",
        "  clients: { count: 3 }",
      ].join("\n"),
    );
    const cases: Array<[string | undefined, string, { model?: string; headBlocks?: number }]> = [
      [undefined, demo, { model: demo }],
      [undefined, VIT, { model: VIT, headBlocks: 1 }],
      [undefined, ext, { model: ext, headBlocks: 1 }],
      [textJob, BERT, {}],
    ];
    for (const [job, model, flags] of cases) {
      const o = { ...flags, samplesPerClient: 50, promptLength: 4 };
      const plan = await planJobTraffic(job, o);
      // before: the whole model read by readModel, split as the job splits it
      const config = toRunConfig(trafficJob(job, o));
      const shapes = trafficShapesOfModel(readModel(model), splitOptionsOf(config), textBundleConfig(config));
      const samplesPerClient = new Array<number>(config.clients.count).fill(50);
      const whole = compareMethodTraffic({ job: trafficJob(job, o), shapes, samplesPerClient });
      assert.deepEqual(plan.comparison, whole, model);
    }
  });

  it("sfprompt traffic of a model with 256 MiB of weights peaks near traffic of the tiny model", () => {
    const small = join(dir, "small.onnx");
    const m = buildDemoVit({ ...DEMO_RECIPE.architecture, width: 16, depth: 2, heads: 2 }, 3).model;
    writeModel(small, m);
    mkdirSync(join(dir, "big"));
    const big = join(dir, "big", "vit.onnx");
    // an extra weight no node reads (zeros: the pages are not touched here), kept in vit.onnx.data
    m.graph.initializers.set("unused.weight", {
      dtype: "float32",
      dims: [64, 1024, 1024],
      data: new Float32Array(64 * 1024 * 1024),
    });
    writeModel(big, m, { externalData: {} });
    const flags = ["--head-blocks", "1", "--samples-per-client", "50"];
    const base = trafficRss(dir, "--model", small, ...flags);
    assert.equal(base.code, 0, base.stderr);
    const r = trafficRss(dir, "--model", big, ...flags);
    assert.equal(r.code, 0, r.stderr);
    // read whole, the 256 MiB weight alone is 256 MiB of RSS
    assert.ok(
      r.peakMiB < base.peakMiB + 128,
      `traffic peaked at ${r.peakMiB.toFixed(0)} MiB on the 256 MiB model, ${base.peakMiB.toFixed(0)} MiB on the tiny one`,
    );
  });
});
