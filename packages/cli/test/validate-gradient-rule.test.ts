// sfprompt validate (and sfprompt run before it starts anything: one set of checks, job-checks.ts)
// builds the split's gradient graphs on the model's outline: a model with an op the engine has no
// gradient rule for (a Sin) passed validate (exit 0), and sfprompt run stopped after "starting <job>
// in <dir>", when it built them, with the engine's advice to add a rule in its source tree, naming no
// job field. The real CLI on real ONNX files (the tiny ViT of 2 blocks, one Erf made a Sin, or its
// last LayerNormalization's Mean output used).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readModel, supportedGradientOps, writeModel, type Model } from "@sfprompt/engine";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt validate finds an op the engine cannot differentiate", () => {
  let dir = "";
  let tiny = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-grad-"));
    tiny = readFileSync(writeTinyJob(dir), "utf8"); // a ViT of 2 blocks at dir/vit.onnx
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny ViT, changed by `edit`, as NAME.onnx, and its job (`split`) NAME.yaml. */
  function editedJob(name: string, split: string, edit: (m: Model) => void): { file: string; model: string } {
    const model = readModel(join(dir, "vit.onnx"));
    edit(model);
    const path = join(dir, `${name}.onnx`);
    writeModel(path, model);
    const file = join(dir, `${name}.yaml`);
    const text = tiny
      .replace(JSON.stringify(join(dir, "vit.onnx")), JSON.stringify(path))
      .replace("  data:", `    split: ${split}\n  data:`);
    writeFileSync(file, text);
    return { file, model: path };
  }

  /** Block `block`'s GELU Erf made a Sin, an op with no gradient rule. */
  const sinIn =
    (block: number) =>
    (m: Model): void => {
      const erf = m.graph.nodes.find((n) => n.name === `/blocks.${block}/mlp/act/Erf`);
      assert.ok(erf !== undefined, `the tiny ViT's block ${block} has an Erf`);
      erf.opType = "Sin";
    };

  /**
   * The final LayerNormalization's Mean output subtracted from its output before the pooling: a
   * form of LayerNormalization the engine has no rule for (its Mean output on the gradient path).
   */
  const lnMeanUsed = (m: Model): void => {
    const ln = m.graph.nodes.find((n) => n.name === "/norm/LayerNormalization");
    const pool = m.graph.nodes.find((n) => n.name === "/Gather");
    assert.ok(
      ln !== undefined && pool !== undefined,
      "the tiny ViT ends in a LayerNormalization and a Gather",
    );
    ln.outputs.push("/norm/mean");
    pool.inputs[0] = "/norm/centred";
    const inputs = [ln.outputs[0]!, "/norm/mean"];
    m.graph.nodes.push({
      name: "/norm/centred",
      opType: "Sub",
      domain: "",
      inputs,
      outputs: ["/norm/centred"],
      attrs: {},
    });
  };

  const escape = (s: string): string => s.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const cases = [
    {
      name: "a Sin in the body",
      edit: sinIn(1),
      split: "{ headBlocks: 1 }",
      says: 'node "/blocks.1/mlp/act/Erf" is a Sin, an op the engine cannot differentiate, in the body',
      rule: "A rule for Sin",
    },
    {
      name: "a Sin in the head",
      edit: sinIn(0),
      split: "{ headBlocks: 1 }",
      says: 'node "/blocks.0/mlp/act/Erf" is a Sin, an op the engine cannot differentiate, in the head',
      rule: "A rule for Sin",
    },
    {
      // the same node left to the body by a head of no blocks: still on the gradient path
      name: "a Sin in the head's block, with headBlocks 0",
      edit: sinIn(0),
      split: "{ headBlocks: 0, pooling: mean }",
      says: 'node "/blocks.0/mlp/act/Erf" is a Sin, an op the engine cannot differentiate, in the body',
      rule: "A rule for Sin",
    },
    {
      name: "a LayerNormalization whose Mean output is used, in the tail",
      edit: lnMeanUsed,
      split: "{ headBlocks: 1 }",
      says:
        'node "/norm/LayerNormalization" is a LayerNormalization of a form the engine cannot differentiate ' +
        "(Mean/InvStdDev outputs have no gradient), in the tail",
      rule: "A rule for this LayerNormalization",
    },
  ];

  cases.forEach((c, i) => {
    it(`refuses ${c.name}: validate exits 1, run before it starts anything`, () => {
      const { file, model } = editedJob(`case-${i}`, c.split, c.edit);
      const head = new RegExp(
        `: spec\\.model\\.source\\.path: ${escape(model)}: ${escape(c.says)} as spec\\.model\\.split cuts the model, and it lies on the gradient path`,
      );
      const v = sfprompt("validate", file);
      assertUserError(v, head);
      const line = v.stderr.split("\n").find((l) => head.test(l)) ?? "";
      assert.ok(line.startsWith(`sfprompt validate: ${file}: spec.model.source.path: `), v.stderr);
      // no split avoids it, which ops the engine differentiates, and, last, that a rule is code
      assert.match(line, /no spec\.model\.split keeps it off that path/);
      assert.ok(line.includes(supportedGradientOps().join(", ")), line);
      const last = `${c.rule} is a change to sfprompt's engine, not to the job (docs/gradients.md, "Adding a gradient rule")`;
      assert.ok(line.endsWith(last), line);
      assert.doesNotMatch(line, /packages\/engine\/src/, "no source tree path for a user");
      const out = join(dir, `out-${i}`);
      const r = sfprompt("run", file, "--out", out);
      assertUserError(r, head);
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
  });

  it("passes the same model with its Erf, and says nothing of gradients", () => {
    const file = join(dir, "erf.yaml");
    writeFileSync(file, tiny);
    const v = sfprompt("validate", file);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /passes sfprompt run's checks/);
    assert.doesNotMatch(v.stderr + v.stdout, /differentiate/);
  });
});
