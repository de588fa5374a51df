// `sfprompt run` when things go wrong around it, as a user meets them: an unusable --nats server or
// --out folder, a folder holding another job's run or in use by a second run, and a run that dies
// (SIGKILL), loses its output pipe (`| head`) or gets Ctrl-C twice: real processes, then `ps` and
// the run directory's files.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildDemoVit, DEMO_RECIPE } from "@sfprompt/core";
import { writeModel } from "@sfprompt/engine";
import { connect } from "@nats-io/transport-node";
import { findNatsServer, openExistingArtifactStore } from "@sfprompt/protocol";
import { WATCHER_NAME } from "@sfprompt/protocol/testing";
import { readJobFile, runConfigFor } from "../src/run/job-file.js";
import { RunMetricsSchema, type RunMetrics } from "../src/run/metrics.js";
import { LOCK_FILE } from "../src/run/run-lock.js";
import {
  assertUserError,
  isAlive,
  processes,
  runProcesses,
  sfprompt,
  startRun,
  waitUntil,
} from "./run-helpers.js";

function jobYaml(name: string, modelPath: string): string {
  return [
    "apiVersion: sfprompt.io/v1alpha1",
    "kind: SFPromptJob",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  model:",
    `    source: { path: ${JSON.stringify(modelPath)} }`,
    "  data:",
    "    source: { builtin: mnist }",
    "    partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }",
    "  clients: { count: 2 }",
    "  server: { executionProvider: cpu }",
    "  training: { rounds: 2, batchSize: 16, evaluation: { maxSamples: 50 } }",
  ].join("\n");
}

/** The nats-server of the run in `out` (the pid its lock notes) and the watcher that stops it. */
function natsServerOf(out: string): { pid: number; watcher: number } {
  const line = readFileSync(join(out, LOCK_FILE), "utf8")
    .split("\n")
    .find((l) => l.startsWith("nats "));
  const nats = processes().find((p) => p.pid === Number(line?.slice(5)) && p.args.includes("nats-server"));
  assert.ok(nats, "the run started a nats-server and noted it in its lock");
  const watcher = processes().find((p) => p.args.endsWith(` ${WATCHER_NAME} ${nats.pid}`));
  assert.ok(watcher, `a ${WATCHER_NAME} watches the nats-server`);
  return { pid: nats.pid, watcher: watcher.pid };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The round of the newest checkpoint in the job's store on the nats-server `pid` a run started (its
 * URL from the ports file nats-server writes beside its config), read as a resuming server reads it.
 */
async function newestCheckpointRound(pid: number, jobFile: string): Promise<number | null> {
  const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  const conf = args[args.indexOf("-c") + 1];
  assert.ok(conf, `the nats-server runs with -c CONFIG (${args.join(" ")})`);
  const ports = JSON.parse(readFileSync(join(dirname(conf), `nats-server_${pid}.ports`), "utf8")) as {
    nats: string[];
  };
  const nc = await connect({ servers: ports.nats[0] });
  try {
    const config = runConfigFor(readJobFile(jobFile), "sfprompt");
    const store = await openExistingArtifactStore(nc, config.names.bucket);
    return (await store?.latestCheckpoint())?.round ?? null;
  } finally {
    await nc.close();
  }
}

describe("sfprompt run when things go wrong", () => {
  let dir = "";
  let job = "";
  const strays: number[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-robust-"));
    const arch = { ...DEMO_RECIPE.architecture, width: 16, depth: 2, heads: 2 };
    const model = join(dir, "vit.onnx");
    writeModel(model, buildDemoVit(arch, 3).model);
    job = join(dir, "job.yaml");
    writeFileSync(job, jobYaml("tiny", model));
  });
  after(() => {
    for (const pid of strays) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  });

  it("names --nats and says what to do when that server is unreachable or has no JetStream", async () => {
    const closed = await freePort();
    assertUserError(
      sfprompt("run", job, "--out", join(dir, "n1"), "--nats", `nats://127.0.0.1:${closed}`),
      new RegExp(`--nats nats://127\\.0\\.0\\.1:${closed}: cannot connect .*check the URL`),
    );
    const port = await freePort();
    const plain = spawn(findNatsServer(), ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    try {
      const url = `nats://127.0.0.1:${port}`;
      let r = sfprompt("run", job, "--out", join(dir, "n2"), "--nats", url);
      for (let i = 0; i < 20 && /cannot connect/.test(r.stderr); i++) {
        await new Promise((res) => setTimeout(res, 250)); // still starting
        r = sfprompt("run", job, "--out", join(dir, "n2"), "--nats", url);
      }
      assertUserError(r, /--nats nats:\/\/127\.0\.0\.1:\d+: JetStream is not enabled.*-js/);
    } finally {
      plain.kill("SIGKILL");
    }
    assert.equal(existsSync(join(dir, "n1")), false, "a failed start leaves no empty run directory");
  });

  it("takes --rounds as digits only, within the manifest's limit", () => {
    for (const rounds of ["1e3", "0x10"]) {
      const r = sfprompt("run", job, "--out", join(dir, "rounds"), "--rounds", rounds);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--rounds must be a whole number ≥ 1 \\(got "${rounds}"\\)`));
    }
    assertUserError(
      sfprompt("run", job, "--out", join(dir, "rounds"), "--rounds", "200000"),
      /--rounds 200000 does not fit the job: spec\.training\.rounds: must be ≤ 100000/,
    );
    assert.equal(existsSync(join(dir, "rounds")), false);
  });

  it("says where a relative model path was looked for", () => {
    const relative = join(dir, "relative-model.yaml");
    writeFileSync(relative, jobYaml("tiny", "vit.onnx"));
    assertUserError(
      sfprompt("run", relative, "--out", join(dir, "relative")),
      /spec\.model\.source\.path: vit\.onnx does not exist on this machine \(a relative path is taken from the current folder, .+\); give the path of an ONNX model file/,
    );
  });

  it("names the run directory when --out cannot be a folder", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a folder\n");
    assertUserError(
      sfprompt("run", job, "--out", join(file, "run")),
      /run directory .*a-file\/run: cannot be created \(ENOTDIR\); choose another folder with --out/,
    );
    assertUserError(sfprompt("run", job, "--out", file), /a-file: exists and is not a folder/);
  });

  it("refuses a folder holding another job's run, and leaves that run as it was", () => {
    const out = join(dir, "other-job");
    mkdirSync(join(out, "nats", "jetstream"), { recursive: true });
    const metrics = `${JSON.stringify({ version: 1, job: "other", method: "sfprompt", startedAt: new Date().toISOString(), rounds: [] })}\n`;
    writeFileSync(join(out, "metrics.json"), metrics);
    assertUserError(
      sfprompt("run", job, "--out", out),
      /holds a run of job "other" \(method sfprompt\), not of "tiny" \(method sfprompt\);.*--fresh/,
    );
    assert.equal(readFileSync(join(out, "metrics.json"), "utf8"), metrics);
    assert.ok(existsSync(join(out, "nats", "jetstream")), "the other job's checkpoints stay");
  });

  it("refuses a folder a live run holds", () => {
    const out = join(dir, "locked");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, LOCK_FILE), `${process.pid}\n`);
    assertUserError(
      sfprompt("run", job, "--out", out, "--rounds", "1"),
      new RegExp(`is in use by another sfprompt run \\(pid ${process.pid}\\)`),
    );
    assert.equal(existsSync(join(out, "metrics.json")), false);
    assert.equal(readFileSync(join(out, LOCK_FILE), "utf8"), `${process.pid}\n`, "the holder's lock stays");
  });

  it("stops its server and clients when it is killed (SIGKILL) with its nats-server's watcher; the next run stops that nats-server, takes over its lock and resumes", async () => {
    const out = join(dir, "killed");
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/);
    const { pid: nats, watcher } = natsServerOf(out);
    strays.push(nats); // in case the test fails before the next run stops it
    process.kill(watcher, "SIGKILL"); // alone, a killed run's watcher stops the nats-server (run-nats-lifetime)
    run.child.kill("SIGKILL");
    await run.exited;
    await waitUntil("no server or client process outlives the run", () => runProcesses(out).length === 0);
    assert.ok(isAlive(nats), "with its watcher killed too, the nats-server still holds the store");
    assert.ok(existsSync(join(out, LOCK_FILE)), "the killed run left its lock");
    const metrics = (): RunMetrics =>
      RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    const first = metrics();
    // metrics.json, written by the killed run as it heard of rounds, lags the server's checkpoints
    // by as many rounds as the server trained unheard (a loaded machine: several); the store tells
    // where the next session goes on from, and it asks for one round past that, which it must train
    // to add its time
    const newest = await newestCheckpointRound(nats, job);
    assert.ok(
      newest !== null && newest >= first.rounds.length,
      `a round is checkpointed before it is announced (checkpoint ${newest}, metrics.json ${first.rounds.length})`,
    );
    const rounds = newest + 1;
    const again = sfprompt("run", job, "--out", out, "--rounds", String(rounds));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`resuming tiny from the checkpoint of round ${newest},`));
    assert.equal(isAlive(nats), false, "the next run stopped the nats-server left on its store");
    const second = metrics();
    assert.deepEqual(
      second.rounds.map((r) => r.round),
      Array.from({ length: rounds }, (_, i) => i + 1),
      "metrics.json holds every round, the killed session's included",
    );
    assert.ok((first.seconds ?? 0) > 0, "the killed session's time is in metrics.json");
    assert.ok(
      (second.seconds ?? 0) > (first.seconds ?? 0),
      `the wall time adds both sessions' (${first.seconds} s, then ${second.seconds} s)`,
    );
    assert.equal(existsSync(join(out, LOCK_FILE)), false, "the run releases the folder");
  });

  it("stops cleanly when its output pipe closes (`| head`) instead of crashing", async () => {
    const out = join(dir, "pipe");
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/);
    const { pid: nats } = natsServerOf(out);
    run.child.stdout!.destroy();
    run.child.stderr!.destroy();
    assert.equal(await run.exited, 141, "128 + SIGPIPE, as a shell reports `yes | head`");
    assert.deepEqual(runProcesses(out), [], "no server or client process outlives the run");
    assert.equal(isAlive(nats), false, "nor its nats-server");
    assert.equal(existsSync(join(out, LOCK_FILE)), false);
    const m = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    assert.ok(m.rounds.length >= 1);
  });

  it("stops on a Ctrl-C that comes while it prepares the model and bundle, before any process runs", async () => {
    const out = join(dir, "early");
    const run = await startRun([job, "--out", out, "--rounds", "50"], /starting tiny/);
    run.child.kill("SIGINT");
    assert.equal(await run.exited, 130, run.stderr());
    assert.doesNotMatch(run.stderr(), /tiny round \d+\/50/, "no round ran");
    assert.equal(existsSync(join(out, "metrics.json")), false);
    assert.deepEqual(runProcesses(out), []);
  });

  it("survives a second Ctrl-C while it stops, and stops its nats-server too", async () => {
    const out = join(dir, "twice");
    const run = await startRun([job, "--out", out, "--rounds", "50"], /tiny round 1\/50/);
    const { pid: nats } = natsServerOf(out);
    strays.push(nats);
    run.child.kill("SIGINT");
    await waitUntil("the run says it stops", () => /SIGINT: stopping/.test(run.stderr()));
    run.child.kill("SIGINT");
    assert.equal(await run.exited, 130, run.stderr());
    assert.deepEqual(runProcesses(out), [], "no server or client process outlives the run");
    assert.equal(isAlive(nats), false, "nor its nats-server");
  });
});
