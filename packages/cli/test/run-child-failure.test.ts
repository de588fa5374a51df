// `sfprompt run` when its client processes fail on the job (here: a class count below the data's
// labels, which only the clients meet, as they train): the message says why, from the error the
// client logged, as well as where its log is. It said only "every client failed; see …/client-0.log".
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, runProcesses, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run when every client fails", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-child-failure-"));
    const tiny = writeTinyJob(dir);
    job = join(dir, "five-classes.yaml");
    // MNIST's labels are 0..9: a 5-class classifier cannot take them
    writeFileSync(
      job,
      readFileSync(tiny, "utf8").replace("  data:", "  classes: { numClasses: 5 }\n  data:"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("quotes the error a client logged, and names its log", () => {
    const out = join(dir, "out");
    assertUserError(
      sfprompt("run", job, "--out", out),
      /^sfprompt run: every client failed: client-0: TrainingArgumentError: labels\[\d+\] is \d: labels must be integers in \[0, 5\); check the class count; see \S+\/logs\/client-0\.log$/m,
    );
    assert.deepEqual(runProcesses(out), [], "no process of the run is left");
  });
});
