// `sfprompt run` on a run folder whose first session was stopped before it wrote a checkpoint: the
// folder's nats/ store is there, but holds nothing to resume from. The second run says so and starts
// at round 1, instead of claiming to resume (--resume refuses it); a store with a checkpoint names the
// round it resumes from.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOCK_FILE } from "../src/run/run-lock.js";
import {
  assertUserError,
  readRunMetrics,
  sfprompt,
  startRun,
  waitUntil,
  writeTinyJob,
} from "./run-helpers.js";

/** The round each `resumed` event of the server's log names (the server's own word on it). */
function resumedRounds(out: string): unknown[] {
  const log = join(out, "logs", "server.log");
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.includes('"event":"resumed"'))
    .map((l) => (JSON.parse(l) as Record<string, unknown>)["round"]);
}

describe("sfprompt run after a first session that wrote no checkpoint", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-no-checkpoint-"));
    job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("says the store holds no checkpoint and starts at round 1 (--resume refuses it); the next run resumes from round 1's checkpoint", async () => {
    const out = join(dir, "run");
    const first = await startRun([job, "--out", out], /starting tiny/);
    // its nats-server runs on the folder's store (the lock notes it): stopped right then, no round ends
    await waitUntil(
      "the first session's nats-server runs",
      () =>
        existsSync(join(out, LOCK_FILE)) && readFileSync(join(out, LOCK_FILE), "utf8").includes("\nnats "),
      60_000,
    );
    first.child.kill("SIGINT");
    assert.equal(await first.exited, 130, first.stderr());
    assert.ok(readdirSync(join(out, "nats")).length > 0, "the first session left a nats/ store");
    const metrics = join(out, "metrics.json");
    assert.ok(!existsSync(metrics) || readRunMetrics(out).rounds.length === 0, "it finished no round");

    // --resume insists on a checkpoint: the store has none, so it is refused, the store left as it was
    assertUserError(
      sfprompt("run", job, "--out", out, "--resume"),
      /has no checkpoint to resume \(its nats\/ store holds none: .*\); run without --resume to start at round 1/,
    );
    const again = sfprompt("run", job, "--out", out);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /going on with tiny in \S+ from the earlier session's store/);
    assert.match(
      again.stderr,
      /tiny: the store holds no checkpoint \(the earlier session stopped before writing one\); starting at round 1\n[\s\S]*tiny round 1\/1 phase done/,
    );
    assert.doesNotMatch(again.stderr, /resuming/);
    assert.deepEqual(resumedRounds(out), [], "the server resumed from nothing");
    assert.deepEqual(
      readRunMetrics(out).rounds.map((r) => r.round),
      [1],
    );

    const third = sfprompt("run", job, "--out", out, "--rounds", "2");
    assert.equal(third.code, 0, third.stderr);
    assert.match(
      third.stderr,
      /resuming tiny from the checkpoint of round 1, the store's newest [^\n]*logs\/server\.log says so\)\n[\s\S]*tiny round 2\/2 phase done/,
    );
    assert.deepEqual(resumedRounds(out), [1], "the server resumed from the round the CLI named");
  });
});
