// `sfprompt run` when its terminal goes away (the window closed, the ssh session dropped): the CLI
// stops its server, clients and nats-server as on Ctrl-C and leaves a run directory the next run
// resumes. Real processes: the run under a real pseudo-terminal (util-linux `script`) that is then
// closed, and the SIGHUP a shell sends its jobs' process groups when it hangs up.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOCK_FILE } from "../src/run/run-lock.js";
import {
  isAlive,
  natsServerOf,
  readRunMetrics,
  ROOT,
  runProcesses,
  sfprompt,
  startRun,
  waitUntil,
  writeTinyJob,
} from "./run-helpers.js";

/** The JSON log lines of `event` in a process's log. */
function logEvents(file: string, event: string): Array<Record<string, unknown>> {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The end of a log file, for a failure message. */
function tail(file: string, lines = 25): string {
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/**
 * What a hung-up run must leave: no server, client or nats-server running, the nats-server shut
 * down cleanly, the folder released, and a next run that goes on from the checkpoint of the last
 * round metrics.json records, or of the one after it that the stopping server still checkpointed
 * (the server logs which round it resumed from).
 */
async function assertStoppedAndResumable(job: string, out: string, nats: number): Promise<void> {
  await waitUntil("no server or client process outlives the run", () => runProcesses(out).length === 0);
  await waitUntil("the run's nats-server has stopped", () => !isAlive(nats));
  assert.match(
    readFileSync(join(out, "logs", "nats.log"), "utf8"),
    /Server Exiting\.\.\s*$/,
    tail(join(out, "logs", "nats.log")),
  );
  assert.equal(existsSync(join(out, LOCK_FILE)), false, "the run released its folder");
  const done = readRunMetrics(out).rounds.length;
  assert.ok(done >= 1, "the round that finished before the hangup is recorded");
  // the last round the stopped server finished (it checkpoints every round before announcing it)
  const stopped = Math.max(
    ...logEvents(join(out, "logs", "server.log"), "round-finished").map((e) => Number(e["round"])),
  );
  const rounds = stopped + 2;
  const again = sfprompt("run", job, "--out", out, "--rounds", String(rounds));
  assert.equal(again.code, 0, again.stderr);
  const named = /resuming tiny from the checkpoint of round (\d+), the store's newest [^\n]*\n/.exec(
    again.stderr,
  );
  assert.ok(named, `the run names the checkpoint it goes on from:\n${again.stderr}`);
  const from = Number(named[1]);
  // the server goes on with its rounds until the CLI's SIGTERM reaches it (the CLI first stops
  // following its events, which may lag on a busy machine, and closes the event consumer): metrics.json
  // may then lag the store by a round or more, which the next run takes from the store. The server
  // checkpoints each round before announcing it, and a round it finished as it was stopped may not
  // have reached the store: the checkpoint is of its last round or the one before
  assert.ok(
    from >= Math.max(done, stopped - 1) && from <= stopped,
    `checkpoint of round ${from}, the stopped server finished round ${stopped}, metrics.json has ${done}\n${again.stderr}\nserver.log:\n${tail(join(out, "logs", "server.log"), 60)}`,
  );
  assert.match(again.stderr, new RegExp(`tiny round ${rounds}/${rounds} phase done`));
  const resumed = logEvents(join(out, "logs", "server.log"), "resumed").at(-1);
  assert.equal(resumed?.["round"], from, "the server resumed from the checkpoint the CLI named");
  assert.deepEqual(
    readRunMetrics(out).rounds.map((r) => r.round),
    Array.from({ length: rounds }, (_, i) => i + 1),
    "metrics.json holds every round, those of the stopped session included",
  );
}

describe("sfprompt run when its terminal hangs up", () => {
  let dir = "";
  let job = "";
  const strays: number[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-hangup-"));
    job = writeTinyJob(dir);
  });
  after(() => {
    for (const pid of strays) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("stops its processes the way Ctrl-C does when its terminal closes, and the next run resumes", async () => {
    const out = join(dir, "pty");
    const cli = ["--conditions=source", "--import", "tsx", "packages/cli/src/main.ts"];
    // exec: the run itself leads the terminal's session, whichever shell script starts (bash execs
    // a lone command, dash forks it and leads the session itself, and when it dies of the hangup the
    // kernel sends SIGHUP to the whole foreground group, the server and clients included: that is
    // the shell-job case of the next test)
    const command = [
      "exec",
      ...[process.execPath, ...cli, "run", job, "--out", out, "--rounds", "50"].map((a) => `'${a}'`),
    ].join(" ");
    // script runs the command on a pseudo-terminal of its own; killing script closes the terminal,
    // and the kernel sends SIGHUP to the session's leader only
    const terminal = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let screen = "";
    terminal.stdout.on("data", (b: Buffer) => (screen += b.toString()));
    const closed = new Promise<void>((resolve) => terminal.once("exit", () => resolve()));
    await waitUntil(
      "the run finished round 1 on its terminal",
      () => /tiny round 1\/50 phase done/.test(screen),
      120_000,
    );
    const nats = natsServerOf(out);
    strays.push(nats);
    terminal.kill("SIGKILL"); // the terminal emulator is gone: the run's terminal hangs up
    await closed;
    await waitUntil("the run released its folder", () => !existsSync(join(out, LOCK_FILE)), 30_000);
    for (const log of ["server.log", "client-0.log", "client-1.log"]) {
      const stops = logEvents(join(out, "logs", log), "process.signal").map((e) => e["signal"]);
      assert.deepEqual(
        stops,
        ["SIGTERM"],
        `${log}: the CLI stopped it (not an orphan stopping on its own)\n${tail(join(out, "logs", log))}\nterminal:\n${screen.slice(-3000)}`,
      );
    }
    await assertStoppedAndResumable(job, out, nats);
  });

  it("stops with exit code 129 on the SIGHUP a shell sends its job, its server and clients too, and the next run resumes", async () => {
    const out = join(dir, "job");
    // detached: the run leads its own process group, as a shell's job does
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/, { detached: true });
    const nats = natsServerOf(out);
    strays.push(nats);
    process.kill(-run.child.pid!, "SIGHUP"); // what a shell does to its jobs when its terminal hangs up
    assert.equal(await run.exited, 129, run.stderr());
    assert.match(run.stderr(), /SIGHUP \(the terminal closed\): stopping the processes and nats-server/);
    const server = logEvents(join(out, "logs", "server.log"), "process.signal").map((e) => e["signal"]);
    assert.equal(server[0], "SIGHUP", "the server stopped on the SIGHUP, as on the CLI's SIGTERM");
    await assertStoppedAndResumable(job, out, nats);
  });
});
