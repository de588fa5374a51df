// `sfprompt traffic` end to end as a user runs it (the real process): the demo job from its manifest,
// a committed torch.onnx ViT export through --model, a text job (a BERT export with its vocabulary),
// codec flags, and the errors a user can meet.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { JobTrafficPlan } from "@sfprompt/cli";
import { loadBuiltinDataset } from "@sfprompt/core";
import { BERT_FIXTURE as BERT, letterVocab } from "../../sfprompt/test/runtime/text-fixture.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const VIT = fileURLToPath(new URL("../../engine/test/fixtures/torch/vit/model.onnx", import.meta.url));
const DEMO_JOB = join(ROOT, "examples/demo-job.yaml");

function sfprompt(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function plan(...args: string[]): JobTrafficPlan {
  const r = sfprompt("traffic", ...args, "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JobTrafficPlan;
}

/** A text job on the BERT fixture: debian-sections, 3 clients of at most 30 texts, 16 tokens per text. */
function textJob(vocab: string | undefined): string {
  const tokenizer =
    vocab === undefined ? [] : [`    tokenizer: { vocabulary: ${JSON.stringify(vocab)}, maxLength: 16 }`];
  return [
    "apiVersion: sfprompt.io/v1alpha1",
    "kind: SFPromptJob",
    "metadata: { name: text }",
    "spec:",
    "  model:",
    `    source: { path: ${JSON.stringify(BERT)} }`,
    "    split: { headBlocks: 1, pooling: mean }",
    ...tokenizer,
    "  prompts: { length: 4 }",
    "  classes: { numClasses: 10 }",
    "  data:",
    "    source: { builtin: debian-sections }",
    "    partitioning: { strategy: iid, samplesPerClient: 30 }",
    "  clients: { count: 3 }",
    "  training: { rounds: 2, batchSize: 8 }",
  ].join("\n");
}

function method(p: JobTrafficPlan, m: string): JobTrafficPlan["comparison"]["methods"][number] {
  return p.comparison.methods.find((x) => x.method === m)!;
}

describe("sfprompt traffic", () => {
  it("plans the demo job from its manifest: every method, every round, ratios and break-even agree", () => {
    const p = plan(DEMO_JOB, "--samples-per-client", "64", "--rounds", "3");
    const c = p.comparison;
    assert.deepEqual(
      c.methods.map((m) => m.method),
      ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full"],
    );
    assert.deepEqual(c.samplesPerClient, new Array(8).fill(64));
    assert.deepEqual(
      c.shapes.headOutput,
      [27, 64],
      "demo ViT: CLS + 16 patches + 10 prompt tokens, width 64",
    );
    for (const m of c.methods) {
      assert.equal(m.plan.rounds.length, 3);
      assert.equal(
        m.total,
        m.plan.rounds.reduce((n, r) => n + r.total, 0),
      );
      assert.equal(m.vsFlFull, m.total / method(p, "fl-full").total);
      assert.equal(m.vsSflPrompt, m.total / method(p, "sfl-prompt").total);
    }
    assert.equal(method(p, "fl-prompt").byKind.activation, 0, "FL + prompt runs the body on the client");
    assert.ok(method(p, "sfprompt").byKind.activation < method(p, "sfl-prompt").byKind.activation);
    assert.ok(c.breakEven.keptPerClient > 0 && c.breakEven.sfpromptPerRound < c.breakEven.flFullPerRound);
  });

  it("plans up to the limit of --samples-per-client, that of spec.data.partitioning.samplesPerClient", () => {
    const p = plan(DEMO_JOB, "--samples-per-client", "10000000", "--rounds", "1");
    assert.deepEqual(p.comparison.samplesPerClient, new Array(8).fill(10_000_000));
  });

  it("prints a table of the four methods and the break-even line", () => {
    const r = sfprompt("traffic", DEMO_JOB, "--samples-per-client", "100", "--rounds", "2");
    assert.equal(r.code, 0, r.stderr);
    for (const label of ["SFPrompt", "SFL + prompt", "FL + prompt", "FL full fine-tuning"])
      assert.match(r.stdout, new RegExp(`^\\| ${label.replace(/[+]/g, "\\+")} \\|`, "m"));
    assert.match(r.stdout, /^break-even: /m);
  });

  it("plans a torch.onnx ViT given with --model: f16 activations cut only the split traffic", () => {
    const args = ["--model", VIT, "--head-blocks", "1", "--prompt-length", "2", "--clients", "2"];
    const f32 = plan(...args, "--samples-per-client", "40", "--rounds", "1");
    const f16 = plan(...args, "--samples-per-client", "40", "--rounds", "1", "--activation-codec", "f16");
    assert.equal(f32.model, VIT);
    const weights = f32.comparison.shapes.wholeModelWeights;
    const full = method(f32, "fl-full");
    assert.ok(full.byKind.parameters > 2 * 2 * 4 * weights, "every weight down and up, for both clients");
    assert.equal(method(f16, "fl-full").total, full.total, "the activation codec does not touch parameters");
    const act = (p: JobTrafficPlan): number => method(p, "sfprompt").byKind.activation;
    assert.ok(act(f16) < act(f32) * 0.55 && act(f16) > act(f32) * 0.45, `${act(f16)} vs ${act(f32)}`);
  });

  it("plans a text job (BERT export + vocabulary) at its maxLength, with the attention mask on every body forward", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-text-"));
    try {
      const vocab = join(dir, "vocab.txt");
      writeFileSync(vocab, `${letterVocab().join("\n")}\n`);
      const file = join(dir, "job.yaml");
      writeFileSync(file, textJob(vocab));
      const r = sfprompt("traffic", file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /head output \[20, 32\] \+ attention_mask \[16\] int64, body output \[32\] per sample/,
        "16 tokens + 4 prompts of width 32, and the 16-token mask",
      );
      assert.match(r.stdout, /^samples per client: 30, 30, 30 \(debian-sections train split, iid/m);
      for (const label of ["SFPrompt", "SFL + prompt", "FL + prompt", "FL full fine-tuning"])
        assert.match(
          r.stdout,
          new RegExp(`^\\| ${label.replace(/[+]/g, "\\+")} \\| [\\d.]+ [kMG]?B \\|`, "m"),
        );
      assert.match(r.stdout, /^break-even: /m);

      const p = plan(file);
      assert.deepEqual(p.comparison.shapes.bodyMasks, [{ name: "attention_mask", shape: [16] }]);
      assert.ok(method(p, "sfprompt").byKind.activation < method(p, "sfl-prompt").byKind.activation);
      assert.equal(method(p, "fl-prompt").byKind.activation, 0, "no body traffic, so no mask");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("asks for spec.model.tokenizer when a text model's job has none (exit 1)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-text-"));
    try {
      const file = join(dir, "job.yaml");
      writeFileSync(file, textJob(undefined));
      const r = sfprompt("traffic", file);
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stderr,
        /model input input_ids: has a symbolic axis "sequence": .*spec\.model\.tokenizer/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a γ outside [0, 1) naming the flag (exit 2)", () => {
    const r = sfprompt("traffic", DEMO_JOB, "--gamma", "1.5");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--gamma must be a decimal number in \[0, 1\)/);
  });

  const numbers: Array<[string, string[], number, RegExp]> = [
    ["a count in hex", ["--clients", "0x10"], 2, /--clients must be a whole number ≥ 1 \(got "0x10"\)/],
    ["a count in exponent form", ["--rounds", "1e3"], 2, /--rounds must be a whole number ≥ 1 \(got "1e3"\)/],
    ["a γ in hex", ["--gamma", "0x0"], 2, /--gamma must be a decimal number in \[0, 1\) \(got "0x0"\)/],
    [
      "more samples per client than a job's client can keep (spec.data.partitioning.samplesPerClient)",
      ["--samples-per-client", "10000001"],
      2,
      /^sfprompt traffic: --samples-per-client must be a whole number from 1 to 10000000 \(got "10000001"\)$/m,
    ],
    [
      // it gives every client N whatever the data, so --cluster would be ignored
      "--cluster with --samples-per-client, naming both",
      ["--cluster", "--samples-per-client", "10"],
      2,
      /^sfprompt traffic: --cluster and --samples-per-client cannot be used together: --samples-per-client N gives every client N samples whatever the job's data \(on one machine or a cluster alike\), --cluster says how the job's own data is counted; pass one of them$/m,
    ],
    [
      "a count above the job's limit, naming the flag",
      ["--clients", "20000"],
      1,
      /demo-job\.yaml: --clients does not fit the job: spec\.clients\.count: must be ≤ 10000 \(got 20000\)$/m,
    ],
  ];
  for (const [name, args, code, message] of numbers)
    it(`refuses ${name} (exit ${code})`, () => {
      const r = sfprompt("traffic", DEMO_JOB, ...args);
      assert.equal(r.code, code, r.stdout);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error|invalid SFPromptJob/);
    });

  it("says why a --model cannot be read: a folder, a missing file (exit 1)", () => {
    const folder = sfprompt("traffic", "--model", ROOT);
    assert.equal(folder.code, 1, folder.stdout);
    assert.match(
      folder.stderr,
      /cannot read ONNX model \S+ \(EISDIR\): it is a folder; give the \.onnx file in it/,
    );
    const missing = sfprompt("traffic", "--model", "/nonexistent/m.onnx");
    assert.equal(missing.code, 1, missing.stdout);
    assert.match(missing.stderr, /cannot read ONNX model \/nonexistent\/m\.onnx \(ENOENT\): no such file/);
  });

  it("says what to do with a model file that is no ONNX model, by --model or the job's field (exit 1)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-"));
    try {
      const notOnnx = join(dir, "model.pt");
      writeFileSync(notOnnx, "a PyTorch checkpoint, not ONNX");
      // after the engine's reason (which depends on the bytes) comes what to do
      const hint =
        "[^\\n]+; give the path of an ONNX model file \\(a PyTorch, safetensors or TensorFlow checkpoint";
      const byFlag = sfprompt("traffic", DEMO_JOB, "--model", notOnnx, "--samples-per-client", "4");
      assert.equal(byFlag.code, 1, byFlag.stdout);
      assert.match(
        byFlag.stderr,
        new RegExp(`^sfprompt traffic: --model: cannot load ONNX model ${notOnnx}: ${hint}`, "m"),
      );
      const file = join(dir, "job.yaml");
      writeFileSync(file, readFileSync(DEMO_JOB, "utf8").replace(/builtin: demo\b/, `path: ${notOnnx}`));
      const byJob = sfprompt("traffic", file, "--samples-per-client", "4");
      assert.equal(byJob.code, 1, byJob.stdout);
      assert.match(
        byJob.stderr,
        new RegExp(
          `^sfprompt traffic: ${file}: spec\\.model\\.source\\.path: cannot load ONNX model ${notOnnx}: ${hint}`,
          "m",
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the job as its manifest does: name, or namespace/name (not the NATS token)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-"));
    try {
      const bare = sfprompt("traffic", DEMO_JOB, "--samples-per-client", "4", "--rounds", "1");
      assert.equal(bare.code, 0, bare.stderr);
      assert.match(bare.stdout, /^job demo: 8 clients/m);
      const file = join(dir, "job.yaml");
      writeFileSync(
        file,
        readFileSync(DEMO_JOB, "utf8").replace("  name: demo", "  name: demo\n  namespace: edge"),
      );
      const named = sfprompt("traffic", file, "--samples-per-client", "4", "--rounds", "1");
      assert.equal(named.code, 0, named.stderr);
      assert.match(named.stdout, /^job edge\/demo: 8 clients/m);
      assert.equal(plan(file, "--samples-per-client", "4", "--rounds", "1").comparison.job, "edge/demo");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a split its data cannot give, naming spec.clients.count, without a stack (exit 1)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-"));
    try {
      // the demo's Dirichlet split gives every client 10 samples at least: one client more than that allows
      const samples = (await loadBuiltinDataset("mnist", { split: "train" })).labels.length;
      const clients = Math.floor(samples / 10) + 1;
      const job = readFileSync(DEMO_JOB, "utf8").replace("count: 8", `count: ${clients}`);
      const file = join(dir, "job.yaml");
      writeFileSync(file, job);
      const r = sfprompt("traffic", file);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(
        r.stderr.trim(),
        `sfprompt traffic: spec.clients.count: is ${clients}, but strategy dirichlet (spec.data.partitioning) gives every client 10 samples at least and the training data (spec.data.source) holds ${samples}, fewer than 10 × ${clients}; set spec.clients.count to ${Math.floor(samples / 10)} or less, or use strategy iid`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** The demo job on `source` (YAML lines under spec.data.source), split by `partitioning`. */
  function ownDataJob(dir: string, source: string, partitioning: string): string {
    const job = readFileSync(DEMO_JOB, "utf8")
      .replace("      builtin: mnist", source)
      .replace(/ {4}partitioning:\n( {6}.*\n)+/, `    partitioning: ${partitioning}\n`)
      .replace("maxSamples: 1000", "everyRounds: 0");
    const file = join(dir, "job.yaml");
    writeFileSync(file, job);
    return file;
  }

  it("counts the samples of the job's own JSONL file and image folder here, split as sfprompt run splits them", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-own-"));
    try {
      const jsonl = join(dir, "train.jsonl");
      const lines = Array.from({ length: 60 }, (_, i) =>
        JSON.stringify({ x: new Array(784).fill(i % 2), label: i % 10 }),
      );
      writeFileSync(jsonl, `${lines.join("\n")}\n`);
      // unset strategy: iid on one machine, the clients share this one copy
      const iid = plan(ownDataJob(dir, `      jsonl: { path: ${JSON.stringify(jsonl)} }`, "{ seed: 0 }"));
      const sizes = iid.comparison.samplesPerClient;
      assert.equal(sizes.length, 8);
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        60,
        "every line of the file, shared out",
      );
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `an even split: ${sizes.join(", ")}`);
      // which plan it counted, and how to get the other: the same manifest on a cluster differs
      assert.equal(
        iid.samples,
        `the JSONL file ${jsonl} on this machine, iid, seed 0; spec.data.partitioning.strategy is unset, so the clients split it as sfprompt run does; on a cluster each client keeps all of its own node's copy (--cluster plans that)`,
      );
      // --cluster: each client reads its own node's copy, like this one, and keeps all of it
      const cluster = plan(
        ownDataJob(dir, `      jsonl: { path: ${JSON.stringify(jsonl)} }`, "{ seed: 0 }"),
        "--cluster",
      );
      assert.deepEqual(cluster.comparison.samplesPerClient, new Array<number>(8).fill(60));
      assert.equal(
        cluster.samples,
        `the JSONL file ${jsonl} on this machine, as each node's copy, none, seed 0; spec.data.partitioning.strategy is unset, so on a cluster each client keeps all of its own node's copy (without --cluster: split among the clients as sfprompt run splits it)`,
      );
      const full = (p: JobTrafficPlan): number => method(p, "sfprompt").total;
      assert.ok(full(cluster) > full(iid), "each client sends for all 60 samples, not its share");
      // a strategy the job sets reads the same on both: no note, --cluster changes no count
      const explicit = ownDataJob(
        dir,
        `      jsonl: { path: ${JSON.stringify(jsonl)} }`,
        "{ strategy: iid, seed: 0 }",
      );
      const set = plan(explicit);
      assert.equal(set.samples, `the JSONL file ${jsonl} on this machine, iid, seed 0`);
      assert.deepEqual(
        plan(explicit, "--cluster").comparison.samplesPerClient,
        set.comparison.samplesPerClient,
      );

      const folder = join(dir, "images");
      for (let i = 0; i < 12; i++) {
        mkdirSync(join(folder, String(i % 3)), { recursive: true });
        const pgm = Buffer.concat([Buffer.from("P5\n28 28\n255\n"), Buffer.alloc(28 * 28, i * 20)]);
        writeFileSync(join(folder, String(i % 3), `${i}.pgm`), pgm);
      }
      const none = ownDataJob(
        dir,
        `      imageFolder: { path: ${JSON.stringify(folder)} }`,
        "{ strategy: none }",
      );
      const r = sfprompt("traffic", none);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(
          `^samples per client: 12(, 12){7} \\(the image folder ${folder} on this machine, none`,
          "m",
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses own data too small to split among the clients, naming the field and --cluster, which plans it (exit 1)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-own-"));
    try {
      const jsonl = join(dir, "five.jsonl");
      const lines = Array.from({ length: 5 }, (_, i) =>
        JSON.stringify({ x: new Array(784).fill(0), label: i }),
      );
      writeFileSync(jsonl, `${lines.join("\n")}\n`);
      const file = ownDataJob(dir, `      jsonl: { path: ${JSON.stringify(jsonl)} }`, "{ seed: 0 }");
      const r = sfprompt("traffic", file);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(
        r.stderr.trim(),
        "sfprompt traffic: spec.clients.count: is 8, but the training data (spec.data.source) holds 5 samples: every client needs one at least; set spec.clients.count to 5 or less, or use more data; spec.data.partitioning.strategy is unset, so the clients split it as sfprompt run does; on a cluster each client keeps all of its own node's copy (--cluster plans that)",
      );
      assert.deepEqual(plan(file, "--cluster").comparison.samplesPerClient, new Array<number>(8).fill(5));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("asks for --samples-per-client when the job's own data is not on this machine (exit 1); the flag plans it", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-traffic-"));
    try {
      const file = ownDataJob(dir, "      imageFolder:\n        path: /data/images", "{ strategy: none }");
      const r = sfprompt("traffic", file);
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stderr,
        /spec\.data\.source\.imageFolder\.path: \/data\/images does not exist on this machine; .*give its path here, or pass --samples-per-client N$/m,
      );
      assert.doesNotMatch(r.stderr, /internal error|at .*\.ts:/);
      assert.equal(sfprompt("traffic", file, "--samples-per-client", "10").code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
