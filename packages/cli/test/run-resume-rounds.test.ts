// Running `sfprompt run` again on a run directory, as a user does after a first run: --compare reuses
// the centralised baseline it finished (it has no checkpoint to resume from, so it used to train
// again), a method that finished under the same spec is reused without starting any process, fewer
// rounds than the run trained are refused with what to do, and a count of one reads "1 round".
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatBytes } from "@sfprompt/protocol/charts";
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

/** Every log of the run (nats-server, server, clients; each appended to by every session that ran it). */
function logsOf(out: string): Record<string, string> {
  const logs = join(out, "logs");
  return Object.fromEntries(readdirSync(logs).map((f) => [f, readFileSync(join(logs, f), "utf8")]));
}

describe("sfprompt run on a run directory it ran before", () => {
  let dir = "";
  let job = "";
  let out = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-again-"));
    job = writeTinyJob(dir);
    out = join(dir, "run");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reuses the centralised baseline that finished, with its numbers, and says 1 round", () => {
    const first = sfprompt("run", job, "--out", out, "--rounds", "1", "--methods", "centralized");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /tiny \(sfprompt\): final accuracy .* over 1 round, /);
    const summary = readFileSync(join(out, "summary.md"), "utf8");
    assert.match(summary, /2 clients \(2 per round\), 1 round\b/);
    for (const text of [first.stdout, first.stderr, summary])
      assert.doesNotMatch(text, /\b1 (rounds|clients|epochs|head blocks)\b/);
    const central = join(out, "methods", "centralized", "metrics.json");
    const recorded = readFileSync(central, "utf8");
    const seconds = (): unknown =>
      (
        JSON.parse(readFileSync(join(out, "compare.json"), "utf8")) as Array<{
          method: string;
          seconds: number;
        }>
      ).find((r) => r.method === "centralized")?.seconds;
    const firstSeconds = seconds();

    const again = sfprompt("run", job, "--out", out, "--rounds", "1", "--methods", "centralized");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /going on with tiny in \S+ from the earlier session's store/);
    assert.doesNotMatch(again.stderr, /centralized round 1\/1/, "the baseline did not train again");
    assert.equal(readFileSync(central, "utf8"), recorded, "its metrics.json is the first session's");
    assert.equal(seconds(), firstSeconds, "the table shows the time it took when it trained");
    assert.match(again.stdout, /\| Centralised[^|]*\|/i);
  });

  it("refuses to resume with fewer rounds than the run trained, saying what to give", () => {
    const more = sfprompt("run", job, "--out", out, "--rounds", "2", "--methods", "centralized");
    assert.equal(more.code, 0, more.stderr);
    const metrics = readFileSync(join(out, "metrics.json"), "utf8");
    assert.equal(readRunMetrics(out).rounds.length, 2);

    const fewer = sfprompt("run", job, "--out", out, "--rounds", "1", "--methods", "centralized");
    assertUserError(
      fewer,
      /already trained 2 rounds, more than the 1 --rounds asks for; give --rounds 2 .*--fresh to start over with 1 round$/m,
    );
    assert.doesNotMatch(fewer.stderr, /round 2\/1/);
    assert.equal(readFileSync(join(out, "metrics.json"), "utf8"), metrics, "the run is left as it was");

    const oneRound = join(dir, "one-round.yaml");
    writeFileSync(oneRound, readFileSync(job, "utf8").replace("rounds: 2,", "rounds: 1,"));
    assertUserError(
      sfprompt("run", oneRound, "--out", out),
      /already trained 2 rounds, more than the 1 spec\.training\.rounds asks for/,
    );
  });

  it("prints a method's recorded result without starting nats-server, the server or the clients when it finished under the same spec", () => {
    const done = join(dir, "finished");
    const first = sfprompt("run", job, "--out", done, "--rounds", "1");
    assert.equal(first.code, 0, first.stderr);
    const logs = logsOf(done);
    const metrics = readFileSync(join(done, "metrics.json"), "utf8");

    const again = sfprompt("run", job, "--out", done, "--rounds", "1");
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      /tiny: finished its 1 round in an earlier session with this spec; reusing the result \(no process started; --rounds N trains on, --fresh starts over\)/,
    );
    assert.deepEqual(logsOf(done), logs, "no process ran: every log is as the first run left it");
    assert.equal(
      readFileSync(join(done, "metrics.json"), "utf8"),
      metrics,
      "metrics.json is the first run's",
    );
    const final = readRunMetrics(done).final!;
    assert.match(
      again.stdout,
      new RegExp(
        `tiny \\(sfprompt\\): final accuracy ${(final.accuracy * 100).toFixed(2)} %, traffic ${formatBytes(final.bytes.total)} over 1 round, \\d+ s this session;`,
      ),
      "the time printed is this session's, not the recorded training time",
    );

    // another spec with the same rounds: resumed as before, its server decides (ADR 0035)
    const other = join(dir, "other-eval.yaml");
    writeFileSync(other, readFileSync(job, "utf8").replace("maxSamples: 50", "maxSamples: 40"));
    const changed = sfprompt("run", other, "--out", done, "--rounds", "1");
    assert.equal(changed.code, 0, changed.stderr);
    assert.doesNotMatch(changed.stderr, /reusing the result/);
    assert.ok(logsOf(done)["server.log"]!.length > logs["server.log"]!.length, "its server ran");

    const more = sfprompt("run", job, "--out", done, "--rounds", "2");
    assert.equal(more.code, 0, more.stderr);
    assert.doesNotMatch(more.stderr, /reusing the result/);
    assert.match(more.stderr, /tiny round 2\/2/);
    assert.deepEqual(
      readRunMetrics(done).rounds.map((r) => r.round),
      [1, 2],
    );
  });
});
