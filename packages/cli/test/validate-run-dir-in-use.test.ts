// `sfprompt validate` on a run folder another `sfprompt run` holds now: the run would be refused
// before it reads anything there ('is in use by another sfprompt run (pid N)'), and validate said
// the folder 'holds an earlier session of this job: sfprompt run goes on from its checkpoint', exit
// 0. It now looks at the lock without taking it and says the run's refusal, exit 1; a lock a killed
// run left is no refusal (the next run takes it over). Real CLI, real run, real files.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOCK_FILE } from "../src/run/run-lock.js";
import { assertUserError, sfprompt, startRun, writeTinyJob, type StartedRun } from "./run-helpers.js";

describe("sfprompt validate on a run folder another run holds", () => {
  let dir = "";
  let job = "";
  let out = "";
  let run: StartedRun | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-in-use-"));
    job = writeTinyJob(dir, "{ rounds: 50, batchSize: 16, evaluation: { maxSamples: 50 } }");
    out = join(dir, "run");
  });
  after(async () => {
    run?.child.kill("SIGKILL");
    await run?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it("says the folder is in use, naming the run's pid, while the run holds it; not once it was killed", async () => {
    run = await startRun([job, "--out", out], /starting tiny/);
    const pid = run.child.pid!;
    assert.match(
      readFileSync(join(out, LOCK_FILE), "utf8"),
      new RegExp(`^${pid}\\b`),
      "the run holds the lock",
    );
    for (const args of [[], ["--fresh"]]) {
      const r = sfprompt("validate", job, "--out", out, ...args);
      assertUserError(
        r,
        new RegExp(
          `run directory ${out}: is in use by another sfprompt run \\(pid ${pid}\\); wait for it to finish or stop it, or choose another --out DIR`,
        ),
      );
      assert.ok(existsSync(join(out, LOCK_FILE)), "validate left the run's lock");
    }
    run.child.kill("SIGKILL");
    await run.exited;
    // the killed run's lock stays; the next run takes it over, so validate passes
    assert.ok(existsSync(join(out, LOCK_FILE)));
    const after = sfprompt("validate", job, "--out", out, "--fresh");
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, new RegExp(`run directory: ${out} \\(sfprompt run starts clean there\\)`));
  });
});
