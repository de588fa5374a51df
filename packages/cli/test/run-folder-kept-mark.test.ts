// A run folder the user added a file to stays a run folder after a start that failed before it wrote
// metrics.json or nats/: the start removed the earlier run's files (--fresh, or a start that is no
// resume), then stopped (a model it cannot differentiate, Ctrl-C while the demo model pre-trains), and the
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
   * The job on a model the engine cannot differentiate: refused when the run builds the gradient
   * graphs, after the start (a file that is no ONNX model, or a split the model cannot give, is
   * refused before it now, with the job's checks).
   */
  const failsAfterStart = (name: string): string => writeFailsAfterStartJob(dir, job, name);
  const SPLIT_REFUSED = FAILS_AFTER_START;

  it("takes the folder again, and keeps the user's file", () => {
    const out = join(dir, "run");
    const first = sfprompt("run", job, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    writeFileSync(join(out, "notes.md"), "what I saw\n");
    // the same job on a model it cannot differentiate: refused after the fresh start removed the
    // earlier run's files
    const failed = sfprompt("run", failsAfterStart("broken"), "--out", out, "--fresh");
    assertUserError(failed, SPLIT_REFUSED);
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
    assertUserError(sfprompt("run", broken, "--out", made), SPLIT_REFUSED);
    assert.equal(existsSync(join(dir, "new")), false, "the folders it made are removed");
    const empty = join(dir, "empty");
    mkdirSync(empty);
    assertUserError(sfprompt("run", broken, "--out", empty), SPLIT_REFUSED);
    assert.deepEqual(readdirSync(empty), [], "an empty folder is left empty");
    assert.equal(existsSync(join(empty, RUN_FOLDER_MARK)), false);
  });
});
