// `sfprompt validate`'s plan names the job's fields by their full path (spec.…), as its problems and
// every other message of sfprompt run do, so that the user finds the one to change (kubectl explain
// takes the same path). Real CLI on real files.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt validate's plan", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-fields-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("says evaluation is off by spec.training.evaluation.everyRounds", () => {
    const job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { everyRounds: 0 } }");
    const r = sfprompt("validate", job, "--out", join(dir, "run"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}evaluation: off \(spec\.training\.evaluation\.everyRounds: 0\)$/m);
    const json = sfprompt("validate", job, "--out", join(dir, "run"), "--json");
    assert.equal(json.code, 0, json.stderr);
    const plan = JSON.parse(json.stdout) as { evaluation?: string };
    assert.equal(plan.evaluation, "off (spec.training.evaluation.everyRounds: 0)");
  });
});
