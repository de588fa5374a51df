// A program that watches a job's events with watchEvents and closes its NATS connection must exit on
// its own: each case runs such a program as a child process against a real nats-server and fails
// when it is still alive a few seconds after it printed what it saw.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { ensureJobResources, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { natsFixture, type NatsFixture } from "./job-fixture.js";

const WATCH = new URL("./processes/watch.ts", import.meta.url).pathname;
/** How long the child may take to exit after its last line (a leaked timer keeps it forever). */
const EXIT_GRACE_MS = 5_000;
let nats: NatsFixture;
let counter = 0;

before(async () => {
  nats = await natsFixture();
});
after(async () => {
  await nats.stop();
});

function clientEvent(job: string, client: string): ProgressEvent {
  return { v: 1, job, at: new Date().toISOString(), type: "client.state", client, state: "connected" };
}

function finishedEvent(job: string): ProgressEvent {
  return {
    v: 1,
    job,
    at: new Date().toISOString(),
    type: "job.finished",
    rounds: 1,
    loss: 0.5,
    accuracy: 0.25,
    bytes: { up: 10, down: 20, byKind: {} },
  };
}

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly seen: string[] | undefined;
  /** Milliseconds between the child's JSON line and its exit. */
  readonly exitAfterLineMs: number | undefined;
}

/** Runs the watch program; kills it (and reports a null code) when it outlives its line by the grace. */
function runWatcher(job: string, mode: string, stopAfter: number): Promise<Outcome> {
  const args = ["--conditions=source", "--import", "tsx", WATCH, nats.server.url, job, mode, `${stopAfter}`];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let lineAt: number | undefined;
  let killer: NodeJS.Timeout | undefined;
  const arm = (ms: number): void => {
    clearTimeout(killer);
    killer = setTimeout(() => child.kill("SIGKILL"), ms);
  };
  arm(30_000); // start-up (tsx) and the watch itself
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
    if (lineAt === undefined && out.includes("\n")) {
      lineAt = Date.now();
      arm(EXIT_GRACE_MS);
    }
  });
  child.stderr.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      clearTimeout(killer);
      if (code !== 0) process.stderr.write(`watcher ${mode} exited ${code ?? signal}:\n${err}\n`);
      const line = out.trim().split("\n")[0];
      const seen = line ? (JSON.parse(line) as { seen: string[] }).seen : undefined;
      resolve({
        code,
        signal,
        seen,
        exitAfterLineMs: lineAt === undefined ? undefined : Date.now() - lineAt,
      });
    }),
  );
}

const cases = [
  { name: "a break at the first event", mode: "break", stopAfter: 1, published: 3, seen: 1 },
  { name: "a break after a later event", mode: "break", stopAfter: 2, published: 3, seen: 2 },
  { name: "the return on job.finished", mode: "finished", stopAfter: 0, published: 2, seen: 3 },
  { name: "an abort after the last event", mode: "abort", stopAfter: 2, published: 2, seen: 2 },
  { name: "an abort while it waits for the first event", mode: "abort", stopAfter: 0, published: 0, seen: 0 },
  { name: "nc.close() while it waits for an event", mode: "close", stopAfter: 0, published: 1, seen: 1 },
  {
    name: "nc.close() with the iterator left at a yield",
    mode: "suspended",
    stopAfter: 1,
    published: 2,
    seen: 1,
  },
  { name: "a signal aborted before it started", mode: "pre-abort", stopAfter: 0, published: 2, seen: 0 },
] as const;

describe("watchEvents: the process exits after", { concurrency: 2 }, () => {
  for (const c of cases) {
    test(c.name, async () => {
      const job = `watch-${process.pid}-${++counter}`;
      await ensureJobResources(nats.nc, job);
      for (let i = 0; i < c.published; i++) await publishEvent(nats.nc, clientEvent(job, `client-${i}`));
      if (c.mode === "finished") await publishEvent(nats.nc, finishedEvent(job));
      const o = await runWatcher(job, c.mode, c.stopAfter);
      const when =
        o.seen === undefined ? "never got to close NATS" : `ran ${EXIT_GRACE_MS} ms after closing NATS`;
      assert.equal(o.code, 0, `the watcher ${when} (exit ${o.code ?? o.signal})`);
      const expected = [
        ...Array.from({ length: c.published }, () => "client.state"),
        ...(c.mode === "finished" ? ["job.finished"] : []),
      ].slice(0, c.seen);
      assert.deepEqual(o.seen, expected);
      assert.ok(o.exitAfterLineMs !== undefined && o.exitAfterLineMs < EXIT_GRACE_MS);
    });
  }
});
