// A run folder the user added a file to stays a run folder after a start that failed before it wrote
// metrics.json or nats/: the start removed the earlier run's files (--fresh, or a start that is no
// resume), then stopped (a demo model it cannot pre-train, Ctrl-C while the demo model pre-trains), and the
// folder then held the user's file alone; 97207ef's check refused it as a folder of the user's for
// good. A start into a folder holding files of the user's marks it as a run's first (ADR 0016
// amendment 40). Real CLI, real files.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RUN_FOLDER_MARK } from "../src/run/run-dir.js";
import {
  assertUserError,
  FAILS_AFTER_START,
  readRunMetrics,
  sfprompt,
  sfpromptFailingStart,
  writeFailsAfterStartJob,
  writeTinyJob,
} from "./run-helpers.js";

describe("sfprompt run into a run folder the user added a file to, after a start that failed", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-mark-"));
    job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * The job on the demo model, run by sfpromptFailingStart: refused when the run pre-trains the demo
   * model and finds no Fashion-MNIST, after the start and before it writes into the folder (a file
   * that is no ONNX model, a split the model cannot give or an op the engine cannot differentiate is
   * refused before it now, with the job's checks).
   */
  const failsAfterStart = (name: string): string => writeFailsAfterStartJob(dir, job, name);
  const failingStart = (...args: string[]) => sfpromptFailingStart(dir, ...args);

  it("takes the folder again, and keeps the user's file", () => {
    const out = join(dir, "run");
    const first = sfprompt("run", job, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    writeFileSync(join(out, "notes.md"), "what I saw\n");
    // the same job on a model it cannot pre-train: refused after the fresh start removed the
    // earlier run's files
    const failed = failingStart("run", failsAfterStart("broken"), "--out", out, "--fresh");
    assertUserError(failed, FAILS_AFTER_START);
    assert.match(failed.stderr, /^starting /m, "refused after the start");
    assert.equal(existsSync(join(out, "metrics.json")), false, "the fresh start removed metrics.json");
    assert.equal(existsSync(join(out, "nats")), false, "and the store");
    const again = sfprompt("run", job, "--out", out, "--fresh");
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      readRunMetrics(out).rounds.map((r) => r.round),
      [1],
    );
    assert.equal(readFileSync(join(out, "notes.md"), "utf8"), "what I saw\n", "the user's file stays");
  });

  it("is not left in a folder the run made or found empty, which its release removes", () => {
    // a start that stops before it writes anything leaves no folder behind: the mark it wrote would
    // keep it, so its end removes the mark when it is all the folder holds (ADR 0016 amendment 49)
    const made = join(dir, "new", "run");
    const broken = failsAfterStart("broken-new");
    assertUserError(failingStart("run", broken, "--out", made), FAILS_AFTER_START);
    assert.equal(existsSync(join(dir, "new")), false, "the folders it made are removed");
    const empty = join(dir, "empty");
    mkdirSync(empty);
    assertUserError(failingStart("run", broken, "--out", empty), FAILS_AFTER_START);
    assert.deepEqual(readdirSync(empty), [], "an empty folder is left empty");
    assert.equal(existsSync(join(empty, RUN_FOLDER_MARK)), false);
  });
});
