// `sfprompt run` end to end as a user runs it: a real child process that starts nats-server, the
// server and two client processes on a tiny job (2 rounds, 32 samples per client, a small untrained
// ViT), then the run directory's contents; a second run resumes; bad manifests exit 1 naming the field.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { buildDemoVit, decodeParamSet, DEMO_RECIPE } from "@sfprompt/core";
import { GraphSession, writeModel } from "@sfprompt/engine";
import { RunMetricsSchema, type RunMetrics } from "../src/run/metrics.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function sfprompt(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function jobYaml(modelPath: string, spec: string): string {
  return [
    "apiVersion: sfprompt.io/v1alpha1",
    "kind: SFPromptJob",
    "metadata:",
    "  name: tiny",
    "spec:",
    "  model:",
    `    source: { path: ${JSON.stringify(modelPath)} }`,
    "  data:",
    "    source: { builtin: mnist }",
    "    partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }",
    "  clients: { count: 2 }",
    "  server: { executionProvider: cpu }",
    spec,
  ].join("\n");
}

const TRAINING = "  training: { rounds: 2, batchSize: 16, evaluation: { maxSamples: 50 } }";

/** Tags balance and the root is one <svg> element: enough to know a renderer will take it. */
function assertWellFormedSvg(text: string, points: number): void {
  assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
  assert.match(text.trimEnd(), /<\/svg>$/);
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-z]+)\b[^>]*?(\/?)>/g)) {
    if (m[3] === "/") continue;
    if (m[1] === "/") assert.equal(stack.pop(), m[2], `closing </${m[2]}> matches its opening tag`);
    else stack.push(m[2] as string);
  }
  assert.deepEqual(stack, []);
  assert.ok((text.match(/<circle /g) ?? []).length >= points, "one marker per round and series");
}

describe("sfprompt run", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-"));
    const arch = { ...DEMO_RECIPE.architecture, width: 16, depth: 2, heads: 2 };
    const model = join(dir, "vit.onnx");
    writeModel(model, buildDemoVit(arch, 3).model);
    job = join(dir, "job.yaml");
    writeFileSync(job, jobYaml(model, TRAINING));
  });

  it("runs a tiny job end to end and writes the run directory", async () => {
    const out = join(dir, "run");
    const r = sfprompt("run", job, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /tiny \(sfprompt\): final accuracy \d+\.\d\d %, traffic [\d.]+ [kM]B over 2 rounds/,
    );
    assert.match(r.stderr, /tiny round 2\/2 .*loss=.*accuracy=.*bytes=/);
    const m: RunMetrics = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    assert.deepEqual(
      m.rounds.map((x) => x.round),
      [1, 2],
    );
    for (const round of m.rounds) {
      assert.deepEqual(round.clients, ["client-0", "client-1"]);
      assert.ok((round.bytes.byKind["activation"] ?? 0) > 0 && (round.bytes.byKind["gradient"] ?? 0) > 0);
      assert.equal(round.bytes.total, round.bytes.up + round.bytes.down);
      assert.ok((round.clientFlops ?? 0) > 0);
    }
    assert.equal(m.final?.rounds, 2);
    assert.equal(m.final?.bytes.total, m.rounds[0]!.bytes.total + m.rounds[1]!.bytes.total);
    assertWellFormedSvg(readFileSync(join(out, "accuracy.svg"), "utf8"), 2);
    assertWellFormedSvg(readFileSync(join(out, "traffic.svg"), "utf8"), 2);
    const params = decodeParamSet(readFileSync(join(out, "params.bin")));
    assert.deepEqual([...params.keys()].sort(), [
      "head.bias",
      "head.weight",
      "norm.bias",
      "norm.weight",
      "prompt",
    ]);
    // The whole fine-tuned model carries the trained values as defaults and runs as is.
    const session = await GraphSession.create(join(out, "model", "model.onnx"));
    try {
      const logits = (
        await session.run({
          pixel_values: { dtype: "float32", dims: [1, 1, 28, 28], data: new Float32Array(784) },
        })
      )["logits"];
      assert.deepEqual(logits?.dims, [1, 10]);
    } finally {
      await session.release();
    }
    for (const f of [
      "summary.md",
      "logs/server.log",
      "logs/client-0.log",
      "logs/client-1.log",
      "bundle/manifest.json",
    ])
      assert.ok(existsSync(join(out, f)), `${f} exists`);
    assert.match(readFileSync(join(out, "summary.md"), "utf8"), /\| 2 \| [\d.]+ \| [\d.]+ % \|/);
    const natsStarts = (): number =>
      readFileSync(join(out, "logs", "nats.log"), "utf8").match(/Server is ready/g)?.length ?? 0;
    assert.equal(natsStarts(), 1, "the run keeps the log of the nats-server it started");

    // A second run with the same --out resumes from the checkpoint and adds the new round.
    const again = sfprompt("run", job, "--out", out, "--rounds", "3");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /resuming tiny/);
    const m2 = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    assert.deepEqual(
      m2.rounds.map((x) => x.round),
      [1, 2, 3],
    );
    assert.deepEqual(m2.rounds.slice(0, 2), m.rounds, "the first session's rounds are kept as they were");
    assert.equal(natsStarts(), 2, "a resumed run appends to the nats-server log");

    // --fresh starts clean.
    const fresh = sfprompt("run", job, "--out", out, "--fresh", "--rounds", "1");
    assert.equal(fresh.code, 0, fresh.stderr);
    const m3 = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    assert.deepEqual(
      m3.rounds.map((x) => x.round),
      [1],
    );
  });

  it("starts its nats-server with the job's max_payload: the bytes are what `sfprompt traffic` plans for the job", () => {
    // 16 kB chunks: the tiny ViT's activations of a 16-sample batch (27 kB) go in two, each acked
    const small = join(dir, "small-payload.yaml");
    writeFileSync(small, jobYaml(join(dir, "vit.onnx"), `${TRAINING}\n  transport: { maxPayload: 16384 }`));
    const out = join(dir, "run-small-payload");
    const r = sfprompt("run", small, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const m = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    const t = sfprompt("traffic", small, "--json");
    assert.equal(t.code, 0, t.stderr);
    type Count = { up: number; down: number; upMessages: number };
    type Plan = {
      comparison: { methods: { method: string; plan: { rounds: { byKind: Record<string, Count> }[] } }[] };
    };
    const planned = (JSON.parse(t.stdout) as Plan).comparison.methods.find((x) => x.method === "sfprompt")!
      .plan.rounds;
    assert.equal(planned.length, m.rounds.length);
    for (const [i, round] of m.rounds.entries()) {
      const p = planned[i]!.byKind;
      assert.ok(p["activation"]!.upMessages > 0, "activations planned");
      for (const kind of ["activation", "gradient"])
        assert.equal(round.bytes.byKind[kind], p[kind]!.up + p[kind]!.down, `round ${round.round} ${kind}`);
      // an upload's meta carries its loss and FLOPs as JSON numbers, whose length the plan cannot know
      const params = p["parameters"]!;
      const slack = 12 * params.upMessages;
      const got = round.bytes.byKind["parameters"] ?? 0;
      assert.ok(
        Math.abs(got - (params.up + params.down)) <= slack,
        `round ${round.round} parameters: ${got} vs planned ${params.up + params.down} (± ${slack})`,
      );
    }
  });

  it("--methods compares the job's method with the baselines it names, in one run directory", () => {
    const out = join(dir, "compare");
    const r = sfprompt("run", job, "--out", out, "--methods", "sfl-prompt", "--rounds", "1");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| SFPrompt \| [\d.]+ % \| [\d.]+ [kM]B \| [\d.]+ % \|/);
    assert.match(r.stdout, /\| SFL \+ prompt \| [\d.]+ % \| [\d.]+ [kM]B \| 100\.0 % \|/);
    assert.doesNotMatch(r.stdout, /FL full|centralised/, "only the baseline asked for ran");
    assert.match(r.stdout, /- accuracy: SFPrompt [\d.]+ % vs SFL \+ prompt [\d.]+ %/);
    assert.match(r.stdout, /- bytes to reach SFPrompt's final [\d.]+ %: SFPrompt [\d.]+ [kM]B \(round 1\)/);
    const rows = JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Array<{
      method: string;
      bytes: number;
      curve: Array<{ round: number; bytes: number }>;
    }>;
    assert.deepEqual(
      rows.map((x) => x.method),
      ["sfprompt", "sfl-prompt"],
    );
    for (const row of rows) {
      const m = RunMetricsSchema.parse(
        JSON.parse(
          readFileSync(
            row.method === "sfprompt"
              ? join(out, "metrics.json")
              : join(out, "methods", row.method, "metrics.json"),
            "utf8",
          ),
        ),
      );
      assert.deepEqual(row.curve, [
        { round: 1, bytes: m.rounds[0]!.bytes.total, accuracy: m.rounds[0]!.accuracy },
      ]);
      assert.equal(row.bytes, m.final?.bytes.total);
    }
    for (const f of ["compare-accuracy.svg", "compare-traffic.svg", "compare-accuracy-by-bytes.svg"])
      assertWellFormedSvg(readFileSync(join(out, f), "utf8"), 2);
  });

  it("stops its processes on Ctrl-C (exit 130) and the next run resumes from the last checkpoint", async () => {
    const out = join(dir, "interrupted");
    const child = spawn(
      process.execPath,
      ["--conditions=source", "--import", "tsx", MAIN, "run", job, "--out", out, "--rounds", "50"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
        if (/tiny round 1\/50/.test(stderr)) resolve();
      }),
    );
    child.kill("SIGINT");
    assert.equal(await exited, 130, stderr);
    const left = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes(join(out, "config")));
    assert.deepEqual(left, [], "no server or client process outlives the run");
    const done = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"))).rounds
      .length;
    const again = sfprompt("run", job, "--out", out, "--rounds", String(done + 1));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`resuming tiny[\\s\\S]*tiny round ${done + 1}/${done + 1}`));
    const m = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    assert.deepEqual(
      m.rounds.map((r) => r.round),
      Array.from({ length: done + 1 }, (_, i) => i + 1),
    );
  });

  const bad: Array<[string, string, RegExp]> = [
    ["a file that is not YAML", "kind: [unclosed", /not valid YAML/],
    ["a spec with zero rounds", jobYaml("/x.onnx", "  training: { rounds: 0 }"), /spec\.training\.rounds/],
    ["a spec with an unknown field", jobYaml("/x.onnx", "  trainin: { rounds: 2 }"), /spec.*trainin/],
  ];
  for (const [name, text, message] of bad) {
    it(`exits 1 on ${name}, naming the problem`, () => {
      const path = join(dir, `bad-${name.replace(/\W+/g, "-")}.yaml`);
      writeFileSync(path, text);
      const r = sfprompt("run", path, "--out", join(dir, "never"));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    });
  }

  it("exits 1 when --resume finds no checkpoint, and 2 on --resume with --fresh", () => {
    const r = sfprompt("run", job, "--out", join(dir, "empty"), "--resume");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no checkpoint to resume/);
    assert.equal(sfprompt("run", job, "--resume", "--fresh").code, 2);
    assert.equal(sfprompt("run").code, 2);
  });
});
