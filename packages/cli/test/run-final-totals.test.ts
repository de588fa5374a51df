// The final totals of an `sfprompt run` session whose server only finds the job done: a session that
// stopped after its round-1 line left metrics.json without round 2, which its server had trained and
// checkpointed (and announced, with the job's end, after the session stopped reading). The next
// session's server resumes from round 2 and repeats job.finished, which the stream drops as a
// duplicate of the earlier one, so the totals come from the rounds: the checkpoint's round 2
// included. Against a real nats-server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { keepFirstRoundOnly, natsRunWorld, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

const w = natsRunWorld("cli-final-totals-");

describe("sfprompt run going on from a session that stopped before its last round's line", () => {
  it("totals every round in metrics.json's final and the summary, the one from the checkpoint too", async () => {
    const job = writeTinyJob(w.dir);
    const out = join(w.dir, "run");
    const first = sfprompt("run", job, "--out", out, "--nats", w.nats.url);
    assert.equal(first.code, 0, first.stderr);
    const whole = readRunMetrics(out);
    assert.deepEqual(
      whole.rounds.map((r) => r.round),
      [1, 2],
    );

    // what that session leaves when it stops after its round-1 line: metrics.json is written per
    // round it shows, and has no final line
    keepFirstRoundOnly(out);

    const second = sfprompt("run", job, "--out", out, "--nats", w.nats.url);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /tiny round 2\/2 resumed from its own checkpoint /);
    const m = readRunMetrics(out);
    const last = m.rounds.at(-1);
    assert.deepEqual(
      m.rounds.map((r) => r.round),
      [1, 2],
    );
    const total = m.rounds.reduce((sum, r) => sum + r.bytes.total, 0);
    assert.deepEqual(
      [m.final?.rounds, m.final?.loss, m.final?.accuracy, m.final?.bytes.total],
      [2, last?.loss, last?.accuracy, total],
      JSON.stringify(m.final),
    );
    // the same totals as the first session's, whose server's job.finished said them
    assert.deepEqual(m.final?.bytes.total, whole.final?.bytes.total);
    assert.match(
      second.stderr,
      new RegExp(`^sfprompt: accuracy ${((last?.accuracy ?? -1) * 100).toFixed(2)} %,`, "m"),
    );
  });
});
