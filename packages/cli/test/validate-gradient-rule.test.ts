// sfprompt validate (and sfprompt run before it starts anything: one set of checks, job-checks.ts)
// builds the split's gradient graphs on the model's outline: a model with an op the engine has no
// gradient rule for (a Sin) passed validate (exit 0), and sfprompt run stopped after "starting <job>
// in <dir>", when it built them, with the engine's advice to add a rule in its source tree, naming no
// job field. The real CLI on real ONNX files (the tiny ViT of 2 blocks, one Erf made a Sin).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readModel, supportedGradientOps, writeModel } from "@sfprompt/engine";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt validate finds an op the engine cannot differentiate", () => {
  let dir = "";
  let tiny = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-grad-"));
    tiny = readFileSync(writeTinyJob(dir), "utf8"); // a ViT of 2 blocks at dir/vit.onnx
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny ViT with block `block`'s GELU Erf made a Sin, as NAME.onnx, and its job (`split`) NAME.yaml. */
  function sinJob(name: string, block: number, split: string): { file: string; model: string } {
    const model = readModel(join(dir, "vit.onnx"));
    const erf = model.graph.nodes.find((n) => n.name === `/blocks.${block}/mlp/act/Erf`);
    assert.ok(erf !== undefined, `the tiny ViT's block ${block} has an Erf`);
    erf.opType = "Sin";
    const path = join(dir, `${name}.onnx`);
    writeModel(path, model);
    const file = join(dir, `${name}.yaml`);
    const text = tiny
      .replace(JSON.stringify(join(dir, "vit.onnx")), JSON.stringify(path))
      .replace("  data:", `    split: ${split}\n  data:`);
    writeFileSync(file, text);
    return { file, model: path };
  }

  const cases = [
    { name: "in the body", block: 1, split: "{ headBlocks: 1 }", part: "body" },
    { name: "in the head", block: 0, split: "{ headBlocks: 1 }", part: "head" },
    // the same node left to the body by a head of no blocks: still on the gradient path
    {
      name: "in the head's block, with headBlocks 0",
      block: 0,
      split: "{ headBlocks: 0, pooling: mean }",
      part: "body",
    },
  ];

  for (const c of cases) {
    it(`refuses a Sin ${c.name}: validate exits 1, run before it starts anything`, () => {
      const { file, model } = sinJob(`sin-${c.block}-${c.part}`, c.block, c.split);
      const node = `/blocks.${c.block}/mlp/act/Erf`;
      const head = new RegExp(
        `: spec\\.model\\.source\\.path: ${model.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: node "${node.replaceAll(".", "\\.")}" is a Sin, in the ${c.part} as spec\\.model\\.split cuts the model, an op the engine cannot differentiate`,
      );
      const v = sfprompt("validate", file);
      assertUserError(v, head);
      const line = v.stderr.split("\n").find((l) => head.test(l)) ?? "";
      assert.ok(line.startsWith(`sfprompt validate: ${file}: spec.model.source.path: `), v.stderr);
      // no split avoids it, which ops the engine differentiates, and, last, that a rule is code
      assert.match(line, /no spec\.model\.split keeps it off that path/);
      assert.ok(line.includes(supportedGradientOps().join(", ")), line);
      assert.match(
        line,
        /A rule for Sin is a change to sfprompt's engine, not to the job \(docs\/gradients\.md, /,
      );
      assert.doesNotMatch(line, /packages\/engine\/src/, "no source tree path for a user");
      const out = join(dir, `out-${c.block}-${c.part}`);
      const r = sfprompt("run", file, "--out", out);
      assertUserError(r, head);
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
  }

  it("passes the same model with its Erf, and says nothing of gradients", () => {
    const file = join(dir, "erf.yaml");
    writeFileSync(file, tiny);
    const v = sfprompt("validate", file);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /passes sfprompt run's checks/);
    assert.doesNotMatch(v.stderr + v.stdout, /differentiate/);
  });
});
