// `sfprompt run` with a job whose classifier has fewer classes than its data's labels (5 on MNIST's
// 10): refused before anything starts, naming spec.classes.numClasses, the label found and what to do.
// Its clients met it only as they trained (a TrainingArgumentError in each client's log).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run with fewer classes than the data's labels", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-class-count-"));
    const tiny = writeTinyJob(dir);
    job = join(dir, "five-classes.yaml");
    writeFileSync(
      job,
      readFileSync(tiny, "utf8").replace("  data:", "  classes: { numClasses: 5 }\n  data:"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names spec.classes.numClasses and the largest label before any process starts (exit 1)", () => {
    const out = join(dir, "out");
    assertUserError(
      sfprompt("run", job, "--out", out),
      /^sfprompt run: \S+five-classes\.yaml: spec\.classes\.numClasses: is 5, but spec\.data\.source \(builtin: mnist\) holds label 9 \("9"\), of 10 classes: the classifier predicts labels 0\.\.4 only; set numClasses to 10 \(or more\), or use data whose labels are below 5$/m,
    );
    for (const started of ["nats", "logs", "bundle"])
      assert.ok(!existsSync(join(out, started)), `nothing was started or prepared (${started}/)`);
  });
});
