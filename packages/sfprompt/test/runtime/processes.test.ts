// Killing real processes (SIGKILL, no clean-up) of a job against a real nats-server: a client killed
// mid-round does not stop the job; a server killed after a checkpoint and started again resumes.
// The other participants run in this test's process.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunConfig } from "@sfprompt/api";
import { checkpointObjectName, openArtifactStore, type ProgressEvent } from "@sfprompt/protocol";
import { decodeParamSet, watchEvents } from "@sfprompt/core";
import { jobConfig, natsAndBundleHooks, startClients, startTestServer } from "./job-fixture.js";

const MAIN = new URL("./processes/main.ts", import.meta.url).pathname;
const w = natsAndBundleHooks();
let dir: string;
const spawned: ChildProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sfprompt-procs-"));
});
after(async () => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  readonly child: ChildProcess;
  /** Resolves with the exit code and the last stdout line (the role's JSON outcome). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; last: string }>;
}

function spawnRole(config: RunConfig, role: "server" | "client", index?: number): Proc {
  const path = join(dir, `${config.names.job}.json`);
  writeFileSync(path, JSON.stringify(config));
  const args = ["--conditions=source", "--import", "tsx", MAIN, role, path, w.bundle.dir, w.nats.server.url];
  const child = spawn(process.execPath, index === undefined ? args : [...args, String(index)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  spawned.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; last: string }>(
    (resolve) =>
      child.once("exit", (code, signal) => {
        if (code !== 0 && signal === null) process.stderr.write(`${role} ${index ?? ""} failed:\n${err}\n`);
        resolve({ code, signal, last: out.trim().split("\n").at(-1) ?? "" });
      }),
  );
  return { child, exited };
}

async function untilEvent(config: RunConfig, match: (e: ProgressEvent) => boolean): Promise<void> {
  for await (const e of watchEvents(w.nats.nc, config.names.job)) if (match(e)) return;
}

async function inProcessClients(
  config: RunConfig,
  indices: readonly number[],
): Promise<{ stop(): Promise<void> }> {
  const stop = new AbortController();
  const running = await startClients(config, {
    connect: () => Promise.resolve(w.nats.nc),
    bundle: w.bundle.dir,
    indices,
    signal: stop.signal,
  });
  return {
    async stop() {
      stop.abort();
      await Promise.all(running.map((c) => c.done));
    },
  };
}

test("a client process killed with SIGKILL mid-round does not stop the job", async () => {
  const config = jobConfig({ training: { rounds: 2, quorum: { count: 2 }, roundTimeoutSeconds: 4 } });
  let connected!: () => void;
  const victimConnected = new Promise<void>((r) => (connected = r));
  const victim = spawnRole(config, "client", 2);
  const server = await startTestServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    onEvent: (e) => {
      if (e.type !== "client.state" || e.client !== "client-2") return;
      if (e.state === "connected") connected();
      if (e.state === "split-training") victim.child.kill("SIGKILL");
    },
  });
  // the victim is ready before the others start, so round 1 selects all three
  await victimConnected;
  const others = await inProcessClients(config, [0, 1]);
  const result = await server.done.finally(() => victim.child.kill("SIGKILL"));
  await others.stop();
  assert.equal((await victim.exited).signal, "SIGKILL");
  assert.deepEqual(
    result.rounds.map((r) => r.round),
    [1, 2],
  );
  assert.deepEqual(result.rounds[0]!.selected, ["client-0", "client-1", "client-2"]);
  assert.deepEqual(result.rounds[0]!.participants, ["client-0", "client-1"]);
});

test("a server process killed with SIGKILL after round 1 resumes from its checkpoint when started again", async () => {
  const config = jobConfig({ training: { rounds: 2, roundTimeoutSeconds: 30 } });
  const clients = await inProcessClients(config, [0, 1, 2]);
  const first = spawnRole(config, "server");
  await untilEvent(config, (e) => e.type === "checkpoint.written" && e.round === 1);
  first.child.kill("SIGKILL");
  assert.equal((await first.exited).signal, "SIGKILL");
  const store = await openArtifactStore(w.nats.nc, config.names.job);
  const checkpoint = decodeParamSet((await store.get(checkpointObjectName(1)))!);
  const second = spawnRole(config, "server");
  const s = await second.exited;
  await clients.stop();
  assert.equal(s.code, 0);
  const out = JSON.parse(s.last) as {
    resumedFrom: number;
    rounds: number[];
    startedFrom: Record<string, number[]>;
  };
  assert.equal(out.resumedFrom, 1);
  assert.deepEqual(out.rounds, [1, 2]);
  for (const [name, t] of checkpoint)
    assert.deepEqual(out.startedFrom[name], [...t.data], `${name} equals the checkpoint`);
});
