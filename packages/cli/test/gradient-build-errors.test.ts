// The engine's errors of the gradient build other than a missing rule reached the user in its own
// words (sfprompt validate: 'the rank of "…" is unknown; … run shape inference with a probe', 'the
// model already has a tensor named "grad_…"; rename it before taking gradients'), with no job field,
// and sfprompt prepare and grad told a missing rule as 'add a rule in packages/engine/src/autodiff/
// rules'. All are now told by one builder (gradient-build-error.ts) under spec.model.source or
// --model, with what to do (ADR 0016 amendment 53), and prepare names the partition the node is in as
// its flags cut the model (amendment 55). The real CLI on real ONNX files: the tiny ViT of 2 blocks,
// edited.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readModel, writeModel, type Model } from "@sfprompt/engine";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The output of node `node` renamed `to`, in the node and every node that reads it. */
function renameOutput(m: Model, node: string, to: string): void {
  const n = m.graph.nodes.find((x) => x.name === node);
  assert.ok(n !== undefined, `the tiny ViT has ${node}`);
  const from = n.outputs[0]!;
  n.outputs[0] = to;
  for (const x of m.graph.nodes) x.inputs = x.inputs.map((i) => (i === from ? to : i));
}

/**
 * Block 1's MLP output multiplied by an EyeLike of a Constant (an op whose output shape the engine
 * does not infer, off the gradient path) and reshaped to [0, 0, 16]: the Mul's output, read by the
 * Reshape on the gradient path, has no rank the engine knows.
 */
function unknownRank(m: Model): void {
  const at = m.graph.nodes.find((n) => n.name === "/blocks.1/mlp/fc2/Add");
  assert.ok(at !== undefined, "the tiny ViT's block 1 has an MLP");
  const y = at.outputs[0]!;
  const p = "/blocks.1/mlp/eye";
  m.graph.initializers.set(`${p}/shape`, {
    dtype: "int64",
    dims: [3],
    data: BigInt64Array.from([0n, 0n, 16n]),
  });
  const one = { dtype: "float32" as const, dims: [1, 1], data: new Float32Array([1]) };
  for (const x of m.graph.nodes) x.inputs = x.inputs.map((i) => (i === y ? `${p}/y3` : i));
  m.graph.nodes.splice(
    m.graph.nodes.indexOf(at) + 1,
    0,
    {
      name: `${p}/c`,
      opType: "Constant",
      domain: "",
      inputs: [],
      outputs: [`${p}/one`],
      attrs: { value: { kind: "tensor", value: one } },
    },
    {
      name: `${p}/EyeLike`,
      opType: "EyeLike",
      domain: "",
      inputs: [`${p}/one`],
      outputs: [`${p}/s`],
      attrs: {},
    },
    { name: `${p}/Mul`, opType: "Mul", domain: "", inputs: [y, `${p}/s`], outputs: [`${p}/y2`], attrs: {} },
    {
      name: `${p}/Reshape`,
      opType: "Reshape",
      domain: "",
      inputs: [`${p}/y2`, `${p}/shape`],
      outputs: [`${p}/y3`],
      attrs: {},
    },
  );
}

/** Block 0's GELU Erf made a Sin, an op with no gradient rule (in the head with headBlocks: 1). */
function sinInBlock0(m: Model): void {
  const erf = m.graph.nodes.find((n) => n.name === "/blocks.0/mlp/act/Erf");
  assert.ok(erf !== undefined, "the tiny ViT's block 0 has an Erf");
  erf.opType = "Sin";
}

describe("the gradient build's errors, told in the job's or the flags' words", () => {
  let dir = "";
  let tiny = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-grad-build-"));
    tiny = readFileSync(writeTinyJob(dir), "utf8"); // a ViT of 2 blocks at dir/vit.onnx
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny ViT, changed by `edit`, as NAME.onnx. */
  function editedModel(name: string, edit: (m: Model) => void): string {
    const model = readModel(join(dir, "vit.onnx"));
    edit(model);
    const path = join(dir, `${name}.onnx`);
    writeModel(path, model);
    return path;
  }

  /** A job (split headBlocks: 1) on the model NAME.onnx, as NAME.yaml. */
  function jobOn(name: string, model: string): string {
    const file = join(dir, `${name}.yaml`);
    const text = tiny
      .replace(JSON.stringify(join(dir, "vit.onnx")), JSON.stringify(model))
      .replace("  data:", "    split: { headBlocks: 1 }\n  data:");
    writeFileSync(file, text);
    return file;
  }

  const jobCases = [
    {
      name: "a tensor whose rank the engine cannot infer",
      edit: unknownRank,
      says: (model: string): string =>
        `spec.model.source.path: ${model}: the engine cannot build the gradient graphs the training needs: ` +
        'the rank of tensor "/blocks.1/mlp/eye/y2", read by node "/blocks.1/mlp/eye/Reshape" (Reshape), in the body as ' +
        "spec.model.split cuts the model, is unknown",
      todo: "Give the model's inputs their shapes (only the batch dimension symbolic) and make this tensor with ops whose output shapes the engine infers",
    },
    {
      name: "a tensor named as the gradient of a weight (grad_head.weight)",
      edit: (m: Model): void => renameOutput(m, "/norm/LayerNormalization", "grad_head.weight"),
      says: (model: string): string =>
        `spec.model.source.path: ${model}: the model has a tensor named "grad_head.weight", in the tail as ` +
        'spec.model.split cuts the model, the name the gradient graphs give the gradient of "head.weight"',
      todo: "rename that tensor in the model (in the node that makes it and in every node that reads it)",
    },
  ];

  jobCases.forEach((c, i) => {
    it(`names ${c.name} under spec.model.source: validate exits 1, run before it starts`, () => {
      const model = editedModel(`job-${i}`, c.edit);
      const file = jobOn(`job-${i}`, model);
      const head = new RegExp(`^sfprompt validate: ${escape(file)}: ${escape(c.says(model))}`, "m");
      const v = sfprompt("validate", file);
      assertUserError(v, head);
      assert.ok(v.stderr.includes(c.todo), v.stderr);
      // the engine's advice for its own callers is not passed on
      assert.doesNotMatch(v.stderr, /with a probe|before taking gradients/);
      const out = join(dir, `out-${i}`);
      const r = sfprompt("run", file, "--out", out);
      assertUserError(r, new RegExp(`^sfprompt run: ${escape(file)}: ${escape(c.says(model))}`, "m"));
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
  });

  const flagCases = [
    {
      name: "sfprompt prepare, an op with no gradient rule",
      edit: sinInBlock0,
      args: (model: string, out: string): string[] => [
        "prepare",
        "--model",
        model,
        "--num-classes",
        "10",
        "--head-blocks",
        "1",
        "--prompt-length",
        "2",
        "--out",
        out,
      ],
      says:
        'node "/blocks.0/mlp/act/Erf" is a Sin, an op the engine cannot differentiate, in the head as --head-blocks 1 ' +
        "cuts the model, and it lies on the gradient path the training needs; no split (--head-blocks, --cut-head, " +
        "--cut-tail) keeps it off that path",
      last: 'A rule for Sin is a change to sfprompt\'s engine, not to the command (docs/gradients.md, "Adding a gradient rule")',
    },
    {
      name: "sfprompt grad, an op with no gradient rule",
      edit: sinInBlock0,
      args: (model: string, out: string): string[] => [
        "grad",
        "--model",
        model,
        "--wrt",
        "blocks.0.mlp.fc1.weight",
        "--out",
        join(out, "g.onnx"),
      ],
      says:
        'node "/blocks.0/mlp/act/Erf" is a Sin, an op the engine cannot differentiate, and it lies on the gradient path ' +
        "of --wrt's tensors; only --wrt tensors whose gradients do not flow through it keep it off that path",
      last: 'A rule for Sin is a change to sfprompt\'s engine, not to the command (docs/gradients.md, "Adding a gradient rule")',
    },
    {
      name: "sfprompt prepare, a tensor whose rank the engine cannot infer",
      edit: unknownRank,
      args: (model: string, out: string): string[] => [
        "prepare",
        "--model",
        model,
        "--num-classes",
        "10",
        "--head-blocks",
        "1",
        "--prompt-length",
        "2",
        "--out",
        out,
      ],
      says:
        'the engine cannot build the bundle\'s gradient graphs: the rank of tensor "/blocks.1/mlp/eye/y2", read by ' +
        'node "/blocks.1/mlp/eye/Reshape" (Reshape), in the body as --head-blocks 1 cuts the model, is unknown',
      last: "inferring more ops' shapes is a change to sfprompt's engine, not to the command",
    },
  ];

  flagCases.forEach((c, i) => {
    it(`names --model in ${c.name}, with what to do and no source tree path, and writes nothing`, () => {
      const model = editedModel(`flags-${i}`, c.edit);
      const out = join(dir, `flags-out-${i}`);
      const r = sfprompt(...c.args(model, out));
      const command = c.args(model, out)[0]!;
      assertUserError(
        r,
        new RegExp(`^sfprompt ${command}: --model ${escape(model)}: ${escape(c.says)}`, "m"),
      );
      const line = r.stderr.split("\n").find((l) => l.startsWith(`sfprompt ${command}: `)) ?? "";
      assert.ok(line.endsWith(c.last), line);
      assert.doesNotMatch(
        r.stderr,
        /packages\/engine\/src|with a probe/,
        "the engine's advice for its own callers",
      );
      assert.equal(existsSync(out), false, "nothing written, no folder left");
    });
  });
});
