// sfprompt prepare and sfprompt run on a model that keeps its weights in an external data file beside
// it (ONNX exports over 2 GiB) when that file is gone or the user may not read it. The splitter's read
// failed inside a tensor ("cannot load ONNX model …: tensor …: cannot read external data file …") and
// the message went on "give the path of an ONNX model file (… export it to ONNX first …)", sending the
// user to export a model they have; a data file of another owner at 0600 was not told with the user
// and the chmod. Both now name the data file and what to do, exit 1. As root the 0600 case runs the
// CLI as nobody; as another user, the file is made 000.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readModel, writeModel } from "@sfprompt/engine";
import { writeModelNaming } from "../../engine/test/helpers/write-model-naming.js";
import { asRoot, otherUid, sfpromptAsOtherUser } from "./other-user.js";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("a model whose external data file cannot be read", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-model-data-"));
    // the other user's --out goes here
    chmodSync(dir, 0o777);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny job in `name`/, its ViT rewritten with its weights in vit.onnx.data. */
  function jobWithData(name: string): { job: string; model: string; data: string } {
    const folder = join(dir, name);
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    const job = writeTinyJob(folder);
    const model = join(folder, "vit.onnx");
    writeModel(model, readModel(model), { externalData: {} });
    for (const p of [job, model]) chmodSync(p, 0o644);
    return { job, model, data: `${model}.data` };
  }

  const gone = (model: string, data: string): RegExp =>
    new RegExp(
      `${escape(model)} keeps its weights in ${escape(data)} \\(ONNX external data\\), which cannot be opened \\(ENOENT\\); put that file beside the model, as the export wrote them \\(copy them together\\)`,
    );

  it("sfprompt prepare --model, the data file gone: names the data file, not 'export it to ONNX' (exit 1)", () => {
    const { model, data } = jobWithData("prepare-gone");
    rmSync(data);
    const r = sfprompt(
      "prepare",
      "--model",
      model,
      "--head-blocks",
      "1",
      "--prompt-length",
      "2",
      "--out",
      join(dir, "b"),
    );
    assertUserError(r, new RegExp(`--model: ${gone(model, data).source}`));
    assert.doesNotMatch(r.stderr, /export it to ONNX/);
  });

  it("sfprompt run, the data file gone: names the job's field and the data file (exit 1)", () => {
    const { job, model, data } = jobWithData("run-gone");
    rmSync(data);
    const r = sfprompt("run", job, "--out", join(dir, "run-gone", "out"), "--rounds", "1");
    assertUserError(
      r,
      new RegExp(`${escape(job)}: spec\\.model\\.source\\.path: ${gone(model, data).source}`),
    );
    assert.doesNotMatch(r.stderr, /export it to ONNX/);
  });

  it("sfprompt prepare --model, a data file of another owner at 0600: names the user and the chmod (exit 1)", () => {
    const { model, data } = jobWithData("prepare-closed");
    chmodSync(data, asRoot ? 0o600 : 0o000);
    const r = sfpromptAsOtherUser(
      {},
      "prepare",
      "--model",
      model,
      "--head-blocks",
      "1",
      "--prompt-length",
      "2",
      "--out",
      join(dir, "b-closed"),
    );
    assertUserError(
      r,
      new RegExp(
        `--model: ${escape(data)} cannot be read by this process's user \\(uid ${otherUid}, gid \\d+; EACCES\\): make the file readable by uid ${otherUid} on this machine: chmod a\\+r ${escape(data)}`,
      ),
    );
    assert.doesNotMatch(r.stderr, /export it to ONNX/);
  });

  it("sfprompt run, the data outside the model's folder (../): names the field, the tensor's location and the re-save (exit 1)", () => {
    // ADR 0006 amendment 9: the splitter's read refused it with "give the path of an ONNX model file
    // (… export it to ONNX first …)" appended, sending the user to export a model they have
    const folder = join(dir, "run-climbs");
    mkdirSync(folder);
    const job = writeTinyJob(folder);
    const model = join(folder, "vit.onnx");
    writeModelNaming(model, readModel(model), "../vit-weights.bin");
    const r = sfprompt("run", job, "--out", join(folder, "out"), "--rounds", "1");
    assertUserError(
      r,
      new RegExp(
        `${escape(job)}: spec\\.model\\.source\\.path: cannot load ONNX model ${escape(model)}: tensor "[^"]+" keeps its data at external location "\\.\\./vit-weights\\.bin", a path that climbs out of it with "\\.\\.", outside the model's folder ${escape(folder)}; .*save the model again with its external data beside it`,
      ),
    );
    assert.doesNotMatch(r.stderr, /export it to ONNX/);
  });
});
