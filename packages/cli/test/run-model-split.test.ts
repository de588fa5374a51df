// `sfprompt run` with a job whose model, as it is on this machine, does not fit the job: a
// model.source.path that is a folder, or more head blocks than the model has. Each is named by the
// job file's field, not by a flag of `sfprompt prepare` the user never typed or a bare "cannot read".
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run with a model that does not fit its job", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-model-"));
    job = writeTinyJob(dir); // a ViT of 2 blocks at dir/vit.onnx
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny job with `from` replaced by `to` in its text, written to NAME.yaml. */
  function variant(name: string, from: string, to: string): string {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, readFileSync(job, "utf8").replace(from, to));
    return path;
  }

  it("names spec.model.source.path when it is a folder", () => {
    const folder = join(dir, "models");
    mkdirSync(folder);
    const file = variant("folder", JSON.stringify(join(dir, "vit.onnx")), JSON.stringify(folder));
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-folder")),
      /^sfprompt run: \S+folder\.yaml: spec\.model\.source\.path: \S+models is a folder; give the path of the ONNX model file in it/m,
    );
  });

  it("names spec.model.split.headBlocks when the model has too few blocks", () => {
    const file = variant("head-blocks", "  data:", "    split: { headBlocks: 2 }\n  data:");
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-head-blocks")),
      /^sfprompt run: \S+head-blocks\.yaml: spec\.model\.split\.headBlocks: the model cannot be split as the job asks \(in sfprompt prepare's flags: --head-blocks 2 leaves no block for the body: the model has 2 blocks \(timm\), so use 0\.\.1\)$/m,
    );
  });
});
