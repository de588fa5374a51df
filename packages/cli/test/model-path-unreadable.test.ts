// `sfprompt run` on a job whose spec.model.source.path lies in a folder the run's user may not search
// (root's at 0700): existsSync's false for EACCES read as "does not exist on this machine; give the
// path of an ONNX model file", though the file is there; or is a file the user may not read (root's
// at 0600), which the splitter met as "cannot read ONNX model … (EACCES): no permission to read it;
// check its mode and owner". Both now name the user and the fix, exit 1. As root the CLI runs as
// nobody; as another user, the folder or file is made 000.
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { asRoot, otherUid, sfpromptAsOtherUser } from "./other-user.js";
import { assertUserError, writeTinyJob } from "./run-helpers.js";

/** The message for `model`, which the CLI's user may not read, in the job file `job`. */
function unreadableModel(job: string, model: string): RegExp {
  return new RegExp(
    `${job}: spec\\.model\\.source\\.path: ${model} cannot be read by this process's user \\(uid ${otherUid}, gid \\d+; EACCES\\): make the file readable by uid ${otherUid} on this machine: chmod a\\+r ${model} \\(or chown ${otherUid}:\\d+ ${model}\\), and its folders searchable \\(a\\+x\\)`,
  );
}

describe("sfprompt run with a model the user cannot read", () => {
  let dir = "";
  let closed = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-model-closed-"));
    chmodSync(dir, 0o777);
    closed = join(dir, "closed");
    mkdirSync(closed);
  });
  after(() => {
    chmodSync(closed, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a model in a folder it may not search: names the user and the fix, not a missing file (exit 1)", () => {
    // the job file where the user can read it, naming the model in the closed folder
    const job = join(dir, "job.yaml");
    copyFileSync(writeTinyJob(closed), job);
    chmodSync(job, 0o644);
    const model = join(closed, "vit.onnx");
    chmodSync(closed, asRoot ? 0o700 : 0o000);
    const r = sfpromptAsOtherUser({}, "run", job, "--out", join(dir, "out"), "--rounds", "1");
    assertUserError(r, unreadableModel(job, model));
    assert.doesNotMatch(r.stderr, /does not exist/);
  });

  it("a model file it may not read (0600, another owner): names the user and the fix (exit 1)", () => {
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    const job = writeTinyJob(open);
    chmodSync(job, 0o644);
    const model = join(open, "vit.onnx");
    chmodSync(model, asRoot ? 0o600 : 0o000);
    const out = join(dir, "out-open");
    const r = sfpromptAsOtherUser({}, "run", job, "--out", out, "--rounds", "1");
    assertUserError(r, unreadableModel(job, model));
    assert.doesNotMatch(r.stderr, /check its mode and owner/);
    assert.equal(existsSync(out), false, r.stderr);
    // sfprompt validate, which reads no model, tells it too (it passed the job before); given the
    // run's --out, as the default runs/ under the repository is no folder the other user may write
    const v = sfpromptAsOtherUser({}, "validate", job, "--out", out);
    assertUserError(v, unreadableModel(job, model));
  });
});

describe("sfprompt prepare with a model file the user cannot read", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-prepare-closed-"));
    chmodSync(dir, 0o777);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--model of mode 0600 and another owner: names the user and the chmod (exit 1)", () => {
    writeTinyJob(dir);
    const model = join(dir, "vit.onnx");
    chmodSync(model, asRoot ? 0o600 : 0o000);
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
      join(dir, "b"),
    );
    assertUserError(
      r,
      new RegExp(
        `--model: ${model} cannot be read by this process's user \\(uid ${otherUid}, gid \\d+; EACCES\\): make the file readable by uid ${otherUid} on this machine: chmod a\\+r ${model} \\(or chown ${otherUid}:\\d+ ${model}\\), and its folders searchable \\(a\\+x\\)`,
      ),
    );
    assert.doesNotMatch(r.stderr, /check its mode and owner/);
  });
});
