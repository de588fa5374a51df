// `sfprompt run` on a run directory whose server starts the job over (ADR 0036): a first session
// stopped after a round that has no checkpoint yet (spec.output.checkpointEvery past it), then run
// again within JetStream's duplicate window: the server has nothing to resume from and trains from
// round 1 under a new run attempt, and metrics.json holds that attempt's rounds, none of the first's.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readRunMetrics, sfprompt, startRun, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run whose server starts the job over", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-started-over-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("drops the rounds of the attempt before and records every round of the new one", async () => {
    const job = writeTinyJob(dir, "{ rounds: 3, batchSize: 16, evaluation: { maxSamples: 50 } }");
    appendFileSync(job, "\n  output: { checkpointEvery: 3 }\n");
    const out = join(dir, "run");
    const first = await startRun([job, "--out", out], /tiny round 1\/3/);
    first.child.kill("SIGINT");
    await first.exited;
    const before = readRunMetrics(out);
    // the Ctrl-C may reach a busy run after round 2 too (a loaded clean-clone run saw it): either is before the checkpoint
    const recorded = before.rounds.map((r) => r.round);
    assert.ok(
      [1, 2].includes(recorded.length),
      `the first session recorded round 1 (or 1 and 2), which have no checkpoint: ${recorded.join(", ")}`,
    );
    assert.deepEqual(
      recorded,
      Array.from({ length: recorded.length }, (_, i) => i + 1),
    );
    const firstAttempt = before.attempts?.current;
    assert.equal(typeof firstAttempt, "string");

    const again = sfprompt("run", job, "--out", out);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      /tiny: the store holds no checkpoint \(the earlier session stopped before writing one\)/,
    );
    assert.doesNotMatch(again.stderr, /resuming tiny/, "there is nothing to resume from");
    assert.match(
      again.stderr,
      new RegExp(
        `started the job over \\(no checkpoint to resume from\\): dropping the ${recorded.length} rounds?\\b`,
      ),
    );
    const after = readRunMetrics(out);
    assert.deepEqual(
      after.rounds.map((r) => r.round),
      [1, 2, 3],
    );
    assert.notEqual(after.attempts?.current, firstAttempt);
    assert.deepEqual(after.attempts?.earlier, [firstAttempt]);
    // round 1 is the new attempt's (its event was not dropped as a repeat of the first session's)
    const round1 = (m: typeof before): number => Date.parse(m.rounds[0]!.at);
    assert.ok(round1(after) > round1(before), "round 1 was recorded again, by the second session");
    assert.ok(Date.parse(after.startedAt) > round1(before), "the attempt's metrics start with it");
    assert.equal(after.final?.rounds, 3);
    assert.equal(
      after.final?.bytes.total,
      after.rounds.reduce((n, r) => n + r.bytes.total, 0),
      "the job's total is the sum of the rounds recorded",
    );
  });
});
