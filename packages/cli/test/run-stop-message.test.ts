// `sfprompt run` stopped (a terminal's Ctrl-C, sent to its whole process group) at each stage of a
// run: what it says and its exit code tell the truth about what the run directory holds.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isStopped, readRunMetrics, runProcesses, startRun, waitUntil, writeTinyJob } from "./run-helpers.js";

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
});
