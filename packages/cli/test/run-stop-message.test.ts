// `sfprompt run` stopped (a terminal's Ctrl-C, sent to its whole process group) at each stage of a
// run: what it says and its exit code tell the truth about what the run directory holds.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOCK_FILE } from "../src/run/run-lock.js";
import {
  isStopped,
  readRunMetrics,
  runProcesses,
  sfprompt,
  startRun,
  waitUntil,
  writeTinyJob,
} from "./run-helpers.js";

describe("sfprompt run stopped by Ctrl-C", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-stop-"));
    job = writeTinyJob(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("after the job finished, while it writes the results: says so, writes them all and exits 0", async () => {
    const out = join(dir, "finished");
    // frozen once the job has finished and its processes stopped, before the results are written
    const run = await startRun([job, "--out", out], /^sfprompt: accuracy /m, {
      detached: true,
      freezeAfter: "^sfprompt: accuracy ",
    });
    await waitUntil("the run froze after the job finished", () => isStopped(run.child.pid!));
    process.kill(-run.child.pid!, "SIGINT"); // what the terminal does on Ctrl-C
    process.kill(run.child.pid!, "SIGCONT");
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(
      run.stderr(),
      /^sfprompt run: SIGINT: the job had finished training; writing its results, then exiting \(0\)$/m,
    );
    assert.doesNotMatch(run.stderr(), /stopping the processes/);
    for (const file of ["summary.md", "params.bin", "model"])
      assert.ok(existsSync(join(out, file)), `${file} is written`);
    assert.equal(readRunMetrics(out).final?.rounds, 2, "metrics.json records the finished job");
    assert.deepEqual(runProcesses(out), [], "no server or client process outlives the run");
  });

  it("before round 1 finished: says no checkpoint is kept (the next run starts at round 1), exit 130", async () => {
    const out = join(dir, "early");
    const run = await startRun([job, "--out", out], /starting tiny/, { detached: true });
    // its nats-server runs (the lock notes it) while the clients still load: no round has ended
    await waitUntil(
      "the run's nats-server runs",
      () =>
        existsSync(join(out, LOCK_FILE)) && readFileSync(join(out, LOCK_FILE), "utf8").includes("\nnats "),
      60_000,
    );
    process.kill(-run.child.pid!, "SIGINT");
    assert.equal(await run.exited, 130, run.stderr());
    assert.match(
      run.stderr(),
      /^sfprompt run: SIGINT: stopping the processes and nats-server\ntiny: stopped before its first checkpoint: no round is kept to go on from; the same command starts at round 1$/m,
    );
    assert.doesNotMatch(run.stderr(), /keeps the last checkpoint/);
    const next = sfprompt("run", job, "--out", out, "--rounds", "1");
    assert.equal(next.code, 0, next.stderr);
    assert.match(
      next.stderr,
      /^tiny: the store holds no checkpoint .*; starting at round 1$/m,
      "as it was told",
    );
  });

  it("after a round: names the round whose checkpoint the store keeps, the one the next run goes on from", async () => {
    const out = join(dir, "round");
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/, { detached: true });
    process.kill(-run.child.pid!, "SIGINT");
    assert.equal(await run.exited, 130, run.stderr());
    const kept =
      /^tiny: stopped; the job's store keeps the checkpoint of round (\d+) of 50: run the same command to go on from round (\d+)$/m.exec(
        run.stderr(),
      );
    assert.ok(kept, run.stderr());
    assert.equal(Number(kept[2]), Number(kept[1]) + 1);
    const next = sfprompt("run", job, "--out", out, "--rounds", kept[1] as string);
    assert.equal(next.code, 0, next.stderr);
    assert.match(
      next.stderr,
      new RegExp(`^resuming tiny from the checkpoint of round ${kept[1]}, `, "m"),
      "as it was told",
    );
  });
});
