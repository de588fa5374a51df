// sfprompt validate (and sfprompt run's checks before anything starts) read the job's model file
// without its weights (readModelOutline, ADR 0016 amendment 47): checkModelFile read it whole with
// readModel only to learn its inputs, so validate of a model with large weights held them all. Same
// findings on real models (the demo ViT, the tiny ViT with its weights in an external data file, the
// BERT text export); an external data file that is gone is still found by validate; and validate of
// a model with 256 MiB of weights peaks near validate of the tiny one.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { buildDemoVit, DEMO_RECIPE } from "@sfprompt/core";
import { readModel, writeModel, type Model } from "@sfprompt/engine";
import { readJobFile, runConfigFor } from "../src/run/job-file.js";
import { checkModelFile } from "../src/run/model-check.js";
import { BERT_FIXTURE as BERT, letterVocab } from "../../sfprompt/test/runtime/text-fixture.js";
import { ROOT, assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** What checkModelFile found before it read outlines: the data inputs of the model read whole. */
function fromWholeModel(
  path: string,
  model: Model,
): { path: string; isText: boolean; sampleShape?: number[] } {
  const data = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name));
  if (data.length !== 1 || data[0]!.dtype !== "float32") return { path, isText: true };
  const dims = (data[0]!.shape ?? []).slice(1);
  const numeric = dims.length > 0 && dims.every((d): d is number => typeof d === "number" && d > 0);
  return { path, isText: false, ...(numeric ? { sampleShape: dims } : {}) };
}

/** A job file on `model` (a text job when `vocab` is given). */
function jobOn(dir: string, model: string, vocab?: string): string {
  const job = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  const text = vocab !== undefined;
  writeFileSync(
    job,
    [
      "apiVersion: sfprompt.io/v1alpha1",
      "kind: SFPromptJob",
      "metadata: { name: outline }",
      "spec:",
      "  model:",
      `    source: { path: ${JSON.stringify(model)} }`,
      ...(text ? [`    tokenizer: { vocabulary: ${JSON.stringify(vocab)}, maxLength: 16 }`] : []),
      "  classes: { numClasses: 10 }",
      `  data: { source: { builtin: ${text ? "debian-sections" : "mnist"} } }`,
      "  clients: { count: 2 }",
    ].join("\n"),
  );
  return job;
}

/** sfprompt validate as a child process, with its peak RSS (MiB) as node reports it at exit. */
function validateRss(dir: string, job: string): { code: number; stderr: string; peakMiB: number } {
  const hook = join(dir, "max-rss.mjs");
  const file = join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    hook,
    'import { writeFileSync } from "node:fs";\n' +
      "process.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const r = spawnSync(
    process.execPath,
    ["--import", hook, "--conditions=source", "--import", "tsx", MAIN, "validate", job],
    { cwd: ROOT, encoding: "utf8", timeout: 180_000, env: { ...process.env, RSS_FILE: file } },
  );
  return { code: r.status ?? -1, stderr: r.stderr, peakMiB: Number(readFileSync(file, "utf8")) / 1024 };
}

describe("the model check reads the model's outline", () => {
  let dir = "";
  let vocab = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-model-outline-"));
    vocab = join(dir, "vocab.txt");
    writeFileSync(vocab, `${letterVocab().join("\n")}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finds what reading the whole model found: demo ViT, external-data ViT, BERT", () => {
    const demo = join(dir, "demo.onnx");
    writeModel(demo, buildDemoVit(DEMO_RECIPE.architecture, DEMO_RECIPE.pretraining.seed).model);
    mkdirSync(join(dir, "ext"));
    const ext = join(dir, "ext", "vit.onnx");
    writeModel(ext, readModel(demo), { externalData: {} });
    const bertExt = join(dir, "ext", "bert.onnx");
    writeModel(bertExt, readModel(BERT), { externalData: { threshold: 0 } });
    const cases: Array<[string, string | undefined]> = [
      [demo, undefined],
      [ext, undefined],
      [BERT, vocab],
      [bertExt, vocab],
    ];
    for (const [model, v] of cases) {
      const job = jobOn(dir, model, v);
      const parsed = readJobFile(job);
      const got = checkModelFile(runConfigFor(parsed, parsed.spec.method), job);
      assert.deepEqual(got, fromWholeModel(model, readModel(model)), model);
    }
  });

  it("sfprompt validate still says an external data file is gone (exit 1)", () => {
    const folder = join(dir, "gone");
    mkdirSync(folder);
    const job = writeTinyJob(folder);
    const model = join(folder, "vit.onnx");
    writeModel(model, readModel(model), { externalData: {} });
    rmSync(`${model}.data`);
    const r = sfprompt("validate", job);
    assertUserError(
      r,
      new RegExp(
        `${escape(job)}: spec\\.model\\.source\\.path: ${escape(model)} keeps its weights in ${escape(`${model}.data`)} \\(ONNX external data\\), which cannot be opened \\(ENOENT\\)`,
      ),
    );
  });

  it("sfprompt validate of a model with 256 MiB of weights peaks near validate of the tiny model", () => {
    const small = join(dir, "small");
    mkdirSync(small);
    const smallJob = writeTinyJob(small);
    const big = join(dir, "big");
    mkdirSync(big);
    const bigJob = writeTinyJob(big);
    const model = join(big, "vit.onnx");
    const m = readModel(model);
    // an extra weight no node reads (zeros: the pages are not touched here), kept in vit.onnx.data
    m.graph.initializers.set("unused.weight", {
      dtype: "float32",
      dims: [64, 1024, 1024],
      data: new Float32Array(64 * 1024 * 1024),
    });
    writeModel(model, m, { externalData: {} });
    const base = validateRss(dir, smallJob);
    assert.equal(base.code, 0, base.stderr);
    const r = validateRss(dir, bigJob);
    assert.equal(r.code, 0, r.stderr);
    // read whole, the 256 MiB weight alone is 256 MiB of RSS
    assert.ok(
      r.peakMiB < base.peakMiB + 128,
      `validate peaked at ${r.peakMiB.toFixed(0)} MiB on the 256 MiB model, ${base.peakMiB.toFixed(0)} MiB on the tiny one`,
    );
  });
});
