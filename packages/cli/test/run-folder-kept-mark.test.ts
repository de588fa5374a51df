// A run folder the user added a file to stays a run folder after a start that failed before it wrote
// metrics.json or nats/: the start removed the earlier run's files (--fresh, or a start that is no
// resume), then stopped (a model that does not split, Ctrl-C while the demo model pre-trains), and the
// folder then held the user's file alone; 97207ef's check refused it as a folder of the user's for
// good. A start into a folder holding files of the user's marks it as a run's first (ADR 0016
// amendment 39). Real CLI, real files.
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
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run into a run folder the user added a file to, after a start that failed", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-mark-"));
    job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the folder again, and keeps the user's file", () => {
    const out = join(dir, "run");
    const first = sfprompt("run", job, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    writeFileSync(join(out, "notes.md"), "what I saw\n");
    // the same job with a model file that is no ONNX model: refused when it is split, after the
    // fresh start removed the earlier run's files
    writeFileSync(join(dir, "not-a-model.onnx"), "not a model\n");
    const broken = join(dir, "broken.yaml");
    writeFileSync(
      broken,
      readFileSync(job, "utf8").replace(join(dir, "vit.onnx"), join(dir, "not-a-model.onnx")),
    );
    const failed = sfprompt("run", broken, "--out", out, "--fresh");
    assertUserError(failed, /spec\.model\.source\.path: cannot load ONNX model/);
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

  it("is not written into a folder the run made or found empty, which its release removes", () => {
    // a start that stops before it writes anything leaves no folder behind: the mark would keep it
    const made = join(dir, "new", "run");
    const broken = join(dir, "broken-new.yaml");
    writeFileSync(
      broken,
      readFileSync(job, "utf8").replace(join(dir, "vit.onnx"), join(dir, "not-a-model.onnx")),
    );
    writeFileSync(join(dir, "not-a-model.onnx"), "not a model\n");
    assertUserError(sfprompt("run", broken, "--out", made), /cannot load ONNX model/);
    assert.equal(existsSync(join(dir, "new")), false, "the folders it made are removed");
    const empty = join(dir, "empty");
    mkdirSync(empty);
    assertUserError(sfprompt("run", broken, "--out", empty), /cannot load ONNX model/);
    assert.deepEqual(readdirSync(empty), [], "an empty folder is left empty");
    assert.equal(existsSync(join(empty, RUN_FOLDER_MARK)), false);
  });
});
