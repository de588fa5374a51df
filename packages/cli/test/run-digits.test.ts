// `sfprompt run` on the built-in digits (8×8 images) with a model that takes 28×28: the server and
// client processes read the data as it lies and their clients failed in round 1 (ORT: invalid
// dimensions for pixel_values); they resize it to the model's input, as the API says, and the job
// trains. A real run: the CLI, nats-server, server and client processes, real ONNX sessions.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findSklearnDigits } from "@sfprompt/core";
import { readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run on data whose images are not the model's size", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-digits-"));
    job = join(dir, "digits.yaml");
    const tiny = readFileSync(
      writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }"),
      "utf8",
    );
    writeFileSync(job, tiny.replace("builtin: mnist", "builtin: digits"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("trains a round on the 8×8 digits with the tiny job's 28×28 model", () => {
    assert.ok(findSklearnDigits(), "digits.csv.gz is here (scripts/fetch-sklearn-digits.sh)");
    const out = join(dir, "out");
    const r = sfprompt("run", job, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const m = readRunMetrics(out);
    assert.deepEqual(
      m.rounds.map((x) => x.round),
      [1],
    );
    assert.equal(typeof m.rounds[0]!.accuracy, "number", "the held-out digits were evaluated");
  });
});
