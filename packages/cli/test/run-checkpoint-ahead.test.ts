// `sfprompt run` on a run directory whose store holds checkpoints of more rounds than its metrics.json
// records: the earlier session was killed while its server trained on (the CLI frozen by a test seam
// after its round-1 line, its server finishing the job meanwhile, then SIGKILLed). A session asking
// for fewer rounds than the newest checkpoint is refused naming that round, as one asking for fewer
// than metrics.json holds is; one asking for that many or more resumes from it, and metrics.json then
// holds every round, those no session heard of included (ADR 0016 amendment 29).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOCK_FILE } from "../src/run/run-lock.js";
import {
  assertUserError,
  isAlive,
  isStopped,
  natsServerOf,
  readRunMetrics,
  runProcesses,
  sfprompt,
  startRun,
  waitUntil,
} from "./run-helpers.js";
import { writeTinyJob } from "./run-helpers.js";

describe("sfprompt run after a session killed while its server trained on", () => {
  let dir = "";
  let job = "";
  let out = "";
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-ahead-"));
    job = writeTinyJob(dir, "{ rounds: 4, batchSize: 16, evaluation: { maxSamples: 50 } }");
    out = join(dir, "run");
    const run = await startRun([job, "--out", out], /starting tiny/, {
      freezeAfter: "^tiny round 1/4 phase done ",
    });
    try {
      await waitUntil(
        "the session froze after its round-1 line",
        () => {
          if (run.child.exitCode !== null) assert.fail(`the session exited:\n${run.stderr()}`);
          return isStopped(run.child.pid!);
        },
        120_000,
      );
      // its server trains rounds 2-4 and ends the job, checkpointing each round, unheard
      await waitUntil(
        "the frozen session's server and clients finished",
        () => runProcesses(out).length === 0,
        180_000,
      );
      const nats = natsServerOf(out);
      run.child.kill("SIGKILL");
      await run.exited;
      // its watcher stops the nats-server once the session is gone (run-nats-lifetime)
      await waitUntil("the killed session's nats-server stopped", () => !isAlive(nats), 20_000);
    } finally {
      run.child.kill("SIGKILL");
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses fewer rounds than the newest checkpoint, naming its round and what to give", () => {
    const heard = readRunMetrics(out).rounds.map((r) => r.round);
    assert.ok(heard.length < 4, `metrics.json lags the store (${heard.join(", ")})`);
    const r = sfprompt("run", job, "--out", out, "--rounds", "2");
    assertUserError(
      r,
      /its run already trained 4 rounds \(the newest checkpoint in its store is of round 4\), more than the 2 --rounds asks for; give --rounds 4 \(or more, to go on\) to resume it, or add --fresh to start over with 2 rounds/,
    );
    assert.doesNotMatch(r.stderr, /tiny round \d+\/2/, "nothing trained");
    assert.deepEqual(
      readRunMetrics(out).rounds.map((x) => x.round),
      heard,
      "metrics.json is as the killed session left it",
    );
    assert.deepEqual(runProcesses(out), [], "no server or client process is left");
    assert.equal(existsSync(join(out, LOCK_FILE)), false, "the folder is released");
  });

  it("resumes from it with more rounds, and metrics.json holds every round", () => {
    const r = sfprompt("run", job, "--out", out, "--rounds", "5");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming tiny from the checkpoint of round 4, the store's newest/);
    assert.match(r.stderr, /^tiny round 5\/5 /m);
    assert.deepEqual(
      readRunMetrics(out).rounds.map((x) => x.round),
      [1, 2, 3, 4, 5],
    );
  });
});
