// sfprompt validate (and sfprompt run before it starts anything: one set of checks, job-checks.ts)
// splits the job's model as spec.model.split asks, on the model's outline (no weights read): a model
// with fewer blocks than spec.model.split.headBlocks asks, or a cut tensor it does not have, passed
// validate (exit 0) and was refused by sfprompt run only at the split, after "starting <job> in <dir>"
// and the run folder. The real CLI on a real ONNX file (the tiny ViT of 2 blocks).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt validate splits the model as the job asks", () => {
  let dir = "";
  let tiny = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-split-"));
    tiny = readFileSync(writeTinyJob(dir), "utf8"); // a ViT of 2 blocks at dir/vit.onnx
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny job with `split` as its spec.model.split, written to NAME.yaml. */
  function withSplit(name: string, split: string): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, tiny.replace("  data:", `    split: ${split}\n  data:`));
    return file;
  }

  const cases = [
    {
      name: "more head blocks than the model has",
      split: "{ headBlocks: 5 }",
      message:
        /: spec\.model\.split\.headBlocks: the model cannot be split as the job asks \(in sfprompt prepare's flags: --head-blocks 5 leaves no block for the body: the model has 2 blocks \(timm\), so use 0\.\.1\)$/m,
    },
    {
      name: "a cut tensor the model does not have",
      split: "{ cutTensors: { head: nope, body: nope-too } }",
      message:
        /: spec\.model\.split\.cutTensors\.head: the model cannot be split as the job asks \(in sfprompt prepare's flags: --cut-head "nope" is not a tensor of the model/m,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}: validate exits 1, run before it starts anything`, () => {
      const file = withSplit(c.name.replaceAll(" ", "-"), c.split);
      const v = sfprompt("validate", file);
      assertUserError(v, c.message);
      assert.ok(v.stderr.includes(`sfprompt validate: ${file}: spec.model.split.`), v.stderr);
      const out = join(dir, `out-${c.name.replaceAll(" ", "-")}`);
      const r = sfprompt("run", file, "--out", out);
      assertUserError(r, c.message);
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
  }

  it("passes the split the model can give, and says nothing of the split", () => {
    const v = sfprompt("validate", withSplit("one-block", "{ headBlocks: 1 }"));
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /passes sfprompt run's checks/);
  });
});
