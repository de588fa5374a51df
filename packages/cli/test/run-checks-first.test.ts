// `sfprompt run` makes every check of the job before it starts anything (the checks `sfprompt
// validate` makes): a model path that is not there was refused only after "starting <job> in <dir>"
// and the run folder's lock; a JSONL evalSource of the other kind than the model takes only by the
// server, after nats-server had started; a centralized job's --compare baselines were not split-
// checked (the clients refused the split after they started). The real CLI on real files.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildDemoVit, DEMO_RECIPE } from "@sfprompt/core";
import { writeModel } from "@sfprompt/engine";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run checks the job before it starts anything", () => {
  let dir = "";
  let tiny = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-checks-first-"));
    tiny = readFileSync(writeTinyJob(dir), "utf8");
    writeFileSync(
      join(dir, "texts.jsonl"),
      Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `a text ${i}`, label: i % 10 })).join("\n"),
    );
    writeFileSync(join(dir, "one.jsonl"), `${JSON.stringify({ x: [1, 2, 3], label: 0 })}\n`);
    // one sample of the tiny ViT's input (1×28×28): what the centralized baseline can train on
    const pixels = Array.from({ length: 28 * 28 }, (_, i) => (i % 7) / 7);
    writeFileSync(join(dir, "one-image.jsonl"), `${JSON.stringify({ x: pixels, label: 0 })}\n`);
    // 3 good lines of the tiny ViT's input, then one that is not JSON
    const line = (i: number): string => JSON.stringify({ x: pixels, label: i % 10 });
    writeFileSync(join(dir, "broken.jsonl"), `${[0, 1, 2].map(line).join("\n")}\nnot json\n`);
    mkdirSync(join(dir, "no-images"));
    // the tiny ViT of 3 channels: the built-in sets are grayscale
    writeModel(
      join(dir, "rgb.onnx"),
      buildDemoVit({ ...DEMO_RECIPE.architecture, width: 16, depth: 2, heads: 2, channels: 3 }, 3).model,
    );
    // a PyTorch checkpoint is a zip: what a user gives for an ONNX model by mistake
    writeFileSync(join(dir, "model.pt"), Buffer.from("PK\u0003\u0004 not an ONNX model"));
    // 20 lines of 3 number features: the tiny ViT takes 1×28×28
    writeFileSync(
      join(dir, "three.jsonl"),
      Array.from({ length: 20 }, (_, i) => JSON.stringify({ x: [i, 1, 2], label: i % 10 })).join("\n"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function job(name: string, edit: (text: string) => string): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, edit(tiny.replace("name: tiny", `name: ${name}`)));
    return file;
  }

  const cases = [
    {
      name: "a model path that does not exist",
      file: (): string =>
        job("nomodel", (t) =>
          t.replace(
            `source: { path: ${JSON.stringify(join(dir, "vit.onnx"))} }`,
            "source: { path: /nowhere/m.onnx }",
          ),
        ),
      args: [] as string[],
      message: /spec\.model\.source\.path: \/nowhere\/m\.onnx does not exist on this machine/,
    },
    {
      name: "a JSONL evalSource of text for an image model",
      file: (): string =>
        job("evaltext", (t) =>
          t.replace(
            "source: { builtin: mnist }",
            `source: { builtin: mnist }\n    evalSource: { jsonl: { path: ${JSON.stringify(join(dir, "texts.jsonl"))} } }`,
          ),
        ),
      args: [] as string[],
      message: /spec\.data\.evalSource: jsonl .*texts\.jsonl:1 holds text/,
    },
    {
      name: "a centralized job whose --compare baseline cannot split its data among the clients",
      file: (): string =>
        job("central", (t) =>
          t
            .replace("spec:\n  model:", "spec:\n  method: centralized\n  model:")
            .replace(
              "source: { builtin: mnist }",
              `source: { jsonl: { path: ${JSON.stringify(join(dir, "one-image.jsonl"))} } }`,
            )
            .replace(
              "partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }",
              "partitioning: {}",
            )
            .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }"),
        ),
      args: ["--compare", "--methods", "fl-prompt"],
      message: /spec\.clients\.count: is 2, but the training data \(spec\.data\.source\) holds 1 sample/,
    },
    {
      // the clients read it and stopped on it, after nats-server and the server had started
      name: "a JSONL source whose line 4 is not JSON",
      file: (): string =>
        job("brokenjsonl", (t) =>
          t
            .replace(
              "source: { builtin: mnist }",
              `source: { jsonl: { path: ${JSON.stringify(join(dir, "broken.jsonl"))} } }`,
            )
            .replace(
              "partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }",
              "partitioning: {}",
            )
            .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }"),
        ),
      args: [] as string[],
      message:
        /^sfprompt run: \S+brokenjsonl\.yaml: spec\.data\.source: cannot load: \S+broken\.jsonl:4: is not valid JSON/m,
    },
    {
      // the server read it and stopped on it, after nats-server and the clients had started
      name: "an image-folder evalSource without images",
      file: (): string =>
        job("noimages", (t) =>
          t.replace(
            "source: { builtin: mnist }",
            `source: { builtin: mnist }\n    evalSource: { imageFolder: { path: ${JSON.stringify(join(dir, "no-images"))} } }`,
          ),
        ),
      args: [] as string[],
      message:
        /^sfprompt run: \S+noimages\.yaml: spec\.data\.evalSource: cannot load: \S+no-images: has no images/m,
    },
    {
      // the splitter met it after "starting" and the run folder
      name: "a model file that is no ONNX model",
      file: (): string => job("notonnx", (t) => t.replace(join(dir, "vit.onnx"), join(dir, "model.pt"))),
      args: [] as string[],
      message:
        /^sfprompt run: \S+notonnx\.yaml: spec\.model\.source\.path: cannot load ONNX model \S+model\.pt: .*; give the path of an ONNX model file/m,
    },
    {
      // the bundle's input was compared with the job after "starting" and the split
      name: "a tokenizer for a model that takes images",
      file: (): string =>
        job("tokenizer", (t) =>
          t.replace(
            `source: { path: ${JSON.stringify(join(dir, "vit.onnx"))} }`,
            `source: { path: ${JSON.stringify(join(dir, "vit.onnx"))} }\n    tokenizer: { vocabulary: ${JSON.stringify(join(dir, "vocab.txt"))} }`,
          ),
        ),
      args: [] as string[],
      message: /spec\.model\.tokenizer: is set, but the model takes images; remove it/,
    },
    {
      // each client read it against the model's input and stopped on it, after they had started
      name: "JSONL samples of another shape than the model's input",
      file: (): string =>
        job("shape", (t) =>
          t
            .replace(
              "source: { builtin: mnist }",
              `source: { jsonl: { path: ${JSON.stringify(join(dir, "three.jsonl"))} } }`,
            )
            .replace(
              "partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }",
              "partitioning: {}",
            )
            .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }"),
        ),
      args: [] as string[],
      message:
        /^sfprompt run: \S+shape\.yaml: spec\.data\.source: cannot load: \S+three\.jsonl:1: "x" has 3 numbers, expected 784 \(shape \[1, 28, 28\]\)/m,
    },
    {
      // the server and clients resized them and stopped on their channels, after they had started
      name: "a built-in grayscale set for a model of 3 channels",
      file: (): string => job("rgb", (t) => t.replace(join(dir, "vit.onnx"), join(dir, "rgb.onnx"))),
      args: [] as string[],
      message:
        /^sfprompt run: \S+rgb\.yaml: spec\.data\.source: samples have shape \[1, 28, 28\] but the model takes \[3, 28, 28\]; use data of that shape or another model$/m,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} before it says it starts or makes the run folder`, () => {
      const out = join(dir, "runs", c.name.replace(/\W+/g, "-"));
      const r = sfprompt("run", c.file(), "--out", out, ...c.args);
      assertUserError(r, c.message);
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.doesNotMatch(r.stderr, /server exited|refused the job's input/);
      assert.equal(existsSync(out), false, "no run folder");
    });
  }

  it("refuses a built-in set that is not there before it says it starts or makes the run folder", () => {
    // Fashion-MNIST's folder without its files: every client stopped on it after they had started
    const file = job("nofashion", (t) => t.replace("builtin: mnist", "builtin: fashion-mnist"));
    const out = join(dir, "runs", "nofashion");
    const saved = process.env["SFPROMPT_FASHION_MNIST_DIR"];
    process.env["SFPROMPT_FASHION_MNIST_DIR"] = join(dir, "no-images"); // the CLI inherits it
    try {
      const r = sfprompt("run", file, "--out", out);
      assertUserError(
        r,
        /^sfprompt run: \S+nofashion\.yaml: spec\.data\.source: cannot load: \S+train-images-idx3-ubyte(\.gz)?: Fashion-MNIST's train split is not in \S+no-images \(SFPROMPT_FASHION_MNIST_DIR\)/m,
      );
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.doesNotMatch(r.stderr, /refused the job's input/);
      assert.equal(existsSync(out), false, "no run folder");
    } finally {
      if (saved === undefined) delete process.env["SFPROMPT_FASHION_MNIST_DIR"];
      else process.env["SFPROMPT_FASHION_MNIST_DIR"] = saved;
    }
  });

  it("says a centralized job's data of the wrong shape as the job's error, not an internal one", () => {
    // centralized trains inside the CLI process: its data refusal (JobInputError) read as a crash
    const file = job("centralshape", (t) =>
      t
        .replace("spec:\n  model:", "spec:\n  method: centralized\n  model:")
        .replace(
          "source: { builtin: mnist }",
          `source: { jsonl: { path: ${JSON.stringify(join(dir, "one.jsonl"))} } }`,
        )
        .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }"),
    );
    const r = sfprompt("run", file, "--out", join(dir, "runs", "centralshape"));
    // now refused with the model's input shape before anything starts, as the baseline would
    assertUserError(
      r,
      /^sfprompt run: \S+centralshape\.yaml: spec\.data\.source: cannot load: .*one\.jsonl:1: "x" has 3 numbers/m,
    );
    assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
  });

  it("lists sfprompt among the methods --methods takes", () => {
    const r = sfprompt("run", "--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--methods LIST[^\n]*(\n {6,}[^\n]*)*sfprompt, sfl-prompt/);
  });
});
