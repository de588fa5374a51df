// The nats-server `sfprompt run` starts lives as long as the run needs it: a terminal's Ctrl-C (sent
// to the whole foreground process group) reaches the CLI, the server and the clients but not it, so
// they stop while NATS is there and the CLI stops it last; and it goes when the CLI dies (SIGKILL).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  isAlive,
  natsServerOf,
  processes,
  runProcesses,
  startRun,
  waitUntil,
  writeTinyJob,
} from "./run-helpers.js";

function groupOf(pid: number): number {
  return Number(execFileSync("ps", ["-o", "pgid=", "-p", String(pid)], { encoding: "utf8" }).trim());
}

/** The nats-server shut down on a signal it could handle (a SIGKILLed one writes no last line). */
function assertCleanShutdown(out: string): void {
  const log = readFileSync(join(out, "logs", "nats.log"), "utf8");
  assert.match(log, /Server Exiting\.\.\s*$/, "the nats-server shut down cleanly, flushing its store");
}

describe("the nats-server of sfprompt run", () => {
  let dir = "";
  let job = "";
  const strays: number[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-nats-"));
    job = writeTinyJob(dir);
  });
  after(() => {
    for (const pid of strays) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("is not reached by a terminal's Ctrl-C: the CLI stops it (SIGTERM) after the server and clients", async () => {
    const out = join(dir, "ctrl-c");
    // detached: the run leads its own process group, as a shell's foreground job does
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/, { detached: true });
    const nats = natsServerOf(out);
    strays.push(nats);
    assert.notEqual(groupOf(nats), run.child.pid, "the nats-server is not in the run's process group");
    process.kill(-run.child.pid!, "SIGINT"); // what the terminal does on Ctrl-C
    assert.equal(await run.exited, 130, run.stderr());
    assert.deepEqual(runProcesses(out), [], "no server or client process outlives the run");
    assert.equal(isAlive(nats), false, "the run stopped its nats-server");
    assertCleanShutdown(out);
    const server = readFileSync(join(out, "logs", "server.log"), "utf8");
    assert.match(server, /"process\.signal".*"SIGINT"/, "the Ctrl-C reached the server process");
  });

  it("stops when the CLI is killed (SIGKILL), as the server and clients do", async () => {
    const out = join(dir, "killed");
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/);
    const nats = natsServerOf(out);
    strays.push(nats);
    run.child.kill("SIGKILL");
    await run.exited;
    await waitUntil("the killed run's nats-server has stopped", () => !isAlive(nats), 15_000);
    await waitUntil("no server or client process outlives the run", () => runProcesses(out).length === 0);
    assertCleanShutdown(out);
  });

  it("bounds its stop when NATS is gone: a process that does not stop in time is killed, with a message", async () => {
    const out = join(dir, "stuck");
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/, { detached: true });
    process.kill(natsServerOf(out), "SIGKILL");
    const server = processes().find((p) => p.args.includes(join(out, "config")) && / server /.test(p.args));
    assert.ok(server, "the run's server process runs");
    strays.push(server.pid);
    process.kill(server.pid, "SIGSTOP"); // a server stuck where no signal handler runs
    const started = Date.now();
    process.kill(-run.child.pid!, "SIGINT");
    assert.equal(await run.exited, 130, run.stderr());
    const seconds = (Date.now() - started) / 1000;
    // bounded, not quick: the 10 s kill is the message's to prove; without a bound it would never end,
    // and 10 s of slack (20 s) was thin for stopping four processes on a loaded machine
    assert.ok(seconds < 60, `it stopped within the grace period and some seconds (${seconds} s)`);
    assert.match(
      run.stderr(),
      /the server process did not stop within 10 s of SIGTERM; killed it \(SIGKILL\); its log: \S+server\.log/,
    );
    assert.deepEqual(runProcesses(out), [], "no server or client process outlives the run");
  });
});
