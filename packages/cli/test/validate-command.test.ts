// `sfprompt validate JOB.yaml`: every check `sfprompt run` makes before it starts anything, with
// nothing started (no nats-server, no run folder, no model pre-trained or fetched), a short plan and
// exit 0, or every problem found and exit 1. The real CLI on real files.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { demoModelDir } from "@sfprompt/core";
import { ROOT, sfprompt, writeTinyJob } from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** The CLI with extra environment (the cache folder), as sfprompt() runs it. */
function sfpromptEnv(env: Record<string, string>, ...args: string[]): ReturnType<typeof sfprompt> {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 180_000,
    killSignal: "SIGKILL",
    env: { ...process.env, ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `n` lines of number features with labels 0..9 in turn: 784 numbers, the tiny ViT's 1×28×28 input
 * (validate reads the model's input shape and the lines against it, as the clients would).
 */
function featureLines(n: number): string {
  const x = (i: number): number[] => Array.from({ length: 28 * 28 }, (_, j) => ((i + j) % 7) / 7);
  return Array.from({ length: n }, (_, i) => JSON.stringify({ x: x(i), label: i % 10 })).join("\n") + "\n";
}

interface Plan {
  readonly ok: boolean;
  readonly job: string;
  readonly method: string;
  readonly methods: string[];
  readonly clients: number;
  readonly rounds: number;
  readonly data: { readonly source: string; readonly samples?: number; readonly perClient?: number[] };
  readonly model: { readonly source: string; readonly path: string; readonly cached?: boolean };
  readonly runDir: string;
  readonly problems: string[];
}

describe("sfprompt validate", () => {
  let dir = "";
  let tiny = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-"));
    tiny = readFileSync(writeTinyJob(dir), "utf8");
    writeFileSync(join(dir, "train.jsonl"), featureLines(40));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny job with `edit` applied to its text, written as `name`.yaml. */
  function job(name: string, edit: (text: string) => string = (t) => t): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, edit(tiny.replace("name: tiny", `name: ${name}`)));
    return file;
  }
  const onJsonl = (t: string): string =>
    t
      .replace(
        "source: { builtin: mnist }",
        `source: { jsonl: { path: ${JSON.stringify(join(dir, "train.jsonl"))} } }`,
      )
      .replace("partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }", "partitioning: {}")
      .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }");

  it("prints the plan of a valid job and exits 0, making no run folder", () => {
    const out = join(dir, "runs", "ok");
    const r = sfprompt("validate", job("ok", onJsonl), "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /method: sfprompt/);
    assert.match(r.stdout, /clients: 2/);
    assert.match(r.stdout, /rounds: 2/);
    assert.match(r.stdout, /40 training samples; split iid .* among the 2 clients/);
    assert.match(r.stdout, new RegExp(`run directory: ${out}`));
    assert.equal(existsSync(out), false, "validate made no run folder");
    assert.equal(existsSync(join(dir, "runs")), false, "nor its parent");
  });

  it("--json gives the plan as an object: the split's per-client counts add up to the file's lines", () => {
    const r = sfprompt("validate", job("json", onJsonl), "--json");
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as Plan;
    assert.equal(plan.ok, true);
    assert.equal(plan.job, "json");
    assert.equal(plan.clients, 2);
    assert.equal(plan.data.samples, 40);
    assert.equal(plan.data.perClient?.length, 2);
    assert.equal(
      plan.data.perClient?.reduce((a, b) => a + b, 0),
      40,
    );
    assert.equal(plan.model.source, "path");
    assert.equal(plan.model.path, join(dir, "vit.onnx"));
    assert.deepEqual(plan.problems, []);
  });

  it("names every independent problem, not only the first, and exits 1", () => {
    const file = job("many", (t) =>
      t
        .replace(
          `source: { path: ${JSON.stringify(join(dir, "vit.onnx"))} }`,
          "source: { path: /nowhere/m.onnx }",
        )
        .replace("source: { builtin: mnist }", "source: { jsonl: { path: /nowhere/train.jsonl } }")
        .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }")
        .replace(
          "  clients: { count: 2 }",
          "  clients: { count: 2 }\n  output: { resumeFrom: { job: other } }",
        ),
    );
    const r = sfprompt("validate", file);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /spec\.model\.source\.path: \/nowhere\/m\.onnx does not exist on this machine/);
    assert.match(r.stderr, /spec\.data\.source\.jsonl\.path: \/nowhere\/train\.jsonl does not exist/);
    assert.match(r.stderr, /spec\.output\.resumeFrom\.job other/);
    assert.match(r.stderr, /3 problems/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    const json = sfprompt("validate", file, "--json");
    assert.equal(json.code, 1);
    const plan = JSON.parse(json.stdout) as Plan;
    assert.equal(plan.ok, false);
    assert.equal(plan.problems.length, 3);
  });

  it("names data it cannot read here, as sfprompt run refuses it before it starts", () => {
    writeFileSync(join(dir, "broken.jsonl"), `${featureLines(3)}not json\n`);
    mkdirSync(join(dir, "empty-folder"));
    const file = job("unread", (t) =>
      onJsonl(t)
        .replace(join(dir, "train.jsonl"), join(dir, "broken.jsonl"))
        .replace("evaluation: { everyRounds: 0 }", "evaluation: { everyRounds: 1 }")
        .replace(
          "    partitioning: {}",
          `    evalSource: { imageFolder: { path: ${JSON.stringify(join(dir, "empty-folder"))} } }\n    partitioning: {}`,
        ),
    );
    const r = sfprompt("validate", file);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^ {2}spec\.data\.source: cannot load: \S+broken\.jsonl:4: is not valid JSON/m);
    assert.match(r.stderr, /^ {2}spec\.data\.evalSource: cannot load: \S+empty-folder: has no images/m);
    assert.match(r.stderr, /2 problems/);
  });

  it("reads the model file: a file that is no ONNX model, and samples of another shape than its input", () => {
    writeFileSync(join(dir, "model.pt"), Buffer.from("PK\u0003\u0004 a zip, not an ONNX model"));
    const notOnnx = sfprompt(
      "validate",
      job("notonnx", (t) => onJsonl(t).replace(join(dir, "vit.onnx"), join(dir, "model.pt"))),
    );
    assert.equal(notOnnx.code, 1, notOnnx.stdout);
    assert.match(
      notOnnx.stderr,
      /spec\.model\.source\.path: cannot load ONNX model \S+model\.pt: .*; give the path of an ONNX model file/,
    );
    writeFileSync(
      join(dir, "three.jsonl"),
      Array.from({ length: 20 }, (_, i) => JSON.stringify({ x: [i, 1, 2], label: i % 10 })).join("\n"),
    );
    const shape = sfprompt(
      "validate",
      job("shape", (t) => onJsonl(t).replace(join(dir, "train.jsonl"), join(dir, "three.jsonl"))),
    );
    assert.equal(shape.code, 1, shape.stdout);
    assert.match(
      shape.stderr,
      /spec\.data\.source: cannot load: \S+three\.jsonl:1: "x" has 3 numbers, expected 784 \(shape \[1, 28, 28\]\)/,
    );
  });

  it("gives the schema's field errors with their paths", () => {
    const r = sfprompt(
      "validate",
      job("bad", (t) => t.replace("rounds: 2", "rounds: 0")),
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /spec\.training\.rounds/);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  it("takes a List of one job, as sfprompt run does", () => {
    const list = [
      "apiVersion: v1",
      "kind: List",
      "items:",
      ...tiny
        .replace("name: tiny", "name: listed")
        .split("\n")
        .map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`)),
    ].join("\n");
    const file = join(dir, "list.yaml");
    writeFileSync(file, list);
    const r = sfprompt("validate", file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /listed/);
  });

  it("says the demo model would be pre-trained, and pre-trains nothing", () => {
    const cache = join(dir, "cache");
    mkdirSync(cache);
    const file = job("demo", (t) =>
      t.replace(`source: { path: ${JSON.stringify(join(dir, "vit.onnx"))} }`, "source: { builtin: demo }"),
    );
    const started = Date.now();
    // --out: the job is named demo, and the checkout's runs/demo is the README's demo run when one ran
    const r = sfpromptEnv({ SFPROMPT_CACHE: cache }, "validate", file, "--out", join(dir, "demo-out"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`not cached: sfprompt run pre-trains it .*${demoModelDir(undefined, cache)}`),
    );
    assert.deepEqual(readdirSync(cache), [], "nothing written to the cache");
    assert.ok(Date.now() - started < 120_000);
  });

  it("says what sfprompt run would do with the run directory, and refuses what it would refuse", () => {
    const out = join(dir, "runs", "kept");
    const first = sfprompt(
      "run",
      job("kept", (t) => t.replace("rounds: 2", "rounds: 1")),
      "--out",
      out,
    );
    assert.equal(first.code, 0, first.stderr);
    const again = sfprompt("validate", job("kept"), "--out", out);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /run directory: \S+kept \(holds an earlier session of this job: sfprompt run goes on/,
    );
    // another job's run there, and a folder of the user's own files
    const other = sfprompt("validate", job("other"), "--out", out);
    assert.equal(other.code, 1, other.stdout);
    assert.match(other.stderr, /run directory \S+kept: holds a run of job "kept"/);
    const mine = join(dir, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.txt"), "mine\n");
    const notRun = sfprompt("validate", job("kept"), "--out", mine);
    assert.equal(notRun.code, 1, notRun.stdout);
    assert.match(
      notRun.stderr,
      /run directory \S+mine: is not an sfprompt run's folder: it holds notes\.txt/,
    );
    assert.deepEqual(readdirSync(mine), ["notes.txt"], "the folder is left as it was");
    const resume = sfprompt("validate", job("kept"), "--out", join(dir, "runs", "none"), "--resume");
    assert.equal(resume.code, 1, resume.stdout);
    assert.match(resume.stderr, /has no checkpoint to resume/);
    assert.equal(existsSync(join(dir, "runs", "none")), false);
  });

  it("is what sfprompt run --dry-run does, as kubectl's --dry-run", () => {
    const out = join(dir, "runs", "dry");
    const r = sfprompt("run", job("dry", onJsonl), "--out", out, "--dry-run");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SFPromptJob dry passes sfprompt run's checks \(nothing was started\)/);
    assert.match(r.stdout, /40 training samples; split iid/);
    assert.doesNotMatch(r.stderr, /^starting /m);
    assert.equal(existsSync(out), false, "no run folder");
    const bad = sfprompt(
      "run",
      job("drybad", (t) => t.replace("rounds: 2", "rounds: 0")),
      "--dry-run",
    );
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /spec\.training\.rounds/);
  });

  it("names run, the command typed, in a bad flag's usage error under --dry-run", () => {
    const file = job("dryflags", onJsonl);
    const cases: Array<[string[], RegExp]> = [
      [["--rounds", "0"], /^sfprompt run: --rounds must be a whole number ≥ 1 \(got "0"\)/m],
      [["--resume", "--fresh"], /^sfprompt run: --resume and --fresh exclude each other/m],
      [["--methods", "nope"], /^sfprompt run: --methods: unknown method "nope"/m],
    ];
    for (const [flags, message] of cases) {
      const r = sfprompt("run", file, "--dry-run", ...flags);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /validate:/);
    }
    // sfprompt validate names itself
    const v = sfprompt("validate", file, "--rounds", "0");
    assert.equal(v.code, 2, v.stderr);
    assert.match(v.stderr, /validate: --rounds must be a whole number/);
  });

  it("is listed by sfprompt --help", () => {
    const r = sfprompt("--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ {2}validate +/m);
  });
});
