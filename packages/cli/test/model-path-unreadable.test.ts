// `sfprompt run` on a job whose spec.model.source.path lies in a folder the run's user may not search
// (root's at 0700): existsSync's false for EACCES read as "does not exist on this machine; give the
// path of an ONNX model file", though the file is there. It now names the user and the fix, exit 1.
// As root the CLI runs as nobody; as another user, the folder is made 000.
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { asRoot, otherUid, sfpromptAsOtherUser } from "./other-user.js";
import { assertUserError, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run with a model in a folder the user cannot search", () => {
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

  it("names the user and the fix, not a missing file (exit 1)", () => {
    // the job file where the user can read it, naming the model in the closed folder
    const job = join(dir, "job.yaml");
    copyFileSync(writeTinyJob(closed), job);
    chmodSync(job, 0o644);
    const model = join(closed, "vit.onnx");
    chmodSync(closed, asRoot ? 0o700 : 0o000);
    const r = sfpromptAsOtherUser({}, "run", job, "--out", join(dir, "out"), "--rounds", "1");
    assertUserError(
      r,
      new RegExp(
        `${job}: spec\\.model\\.source\\.path: ${model} cannot be read by this process's user \\(uid ${otherUid}, gid \\d+; EACCES\\): make the file readable by uid ${otherUid} on this machine: chmod a\\+r ${model} \\(or chown ${otherUid}:\\d+ ${model}\\), and its folders searchable \\(a\\+x\\)`,
      ),
    );
    assert.doesNotMatch(r.stderr, /does not exist/);
  });
});
