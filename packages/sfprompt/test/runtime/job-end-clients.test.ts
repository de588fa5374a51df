// Clients of a job that ends without them, against a real nats-server: when the server reports the
// job failed (its job.failed event, or the round state it leaves) every client stops with
// JobFailedError and says why, instead of polling a server that is gone; the end of another run
// attempt than their server's (a replaced server's late job.failed) does not stop them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ensureJobResources,
  openArtifactStore,
  openRoundState,
  publishEvent,
  type RoundState,
} from "@sfprompt/protocol";
import {
  JobFailedError,
  PartitionBundle,
  joinParams,
  jsonLogger,
  startServer,
  writeCheckpoint,
} from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { jobConfig, natsAndBundleHooks, startClients, startTestServer } from "./job-fixture.js";

const w = natsAndBundleHooks();

interface Started {
  readonly outcomes: Promise<unknown>[];
  readonly logs: Record<string, unknown>[];
  readonly stop: AbortController;
}

async function loggedClients(config: RunConfig, count = config.clients.count): Promise<Started> {
  const stop = new AbortController();
  const logs: Record<string, unknown>[] = [];
  const clients = await startClients(config, {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    indices: [...Array(count).keys()],
    signal: stop.signal,
    retryDelayMs: 100,
    logger: jsonLogger({ write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
  });
  return { outcomes: clients.map((c) => c.done), logs, stop };
}

/** The clients' outcomes, or null for those still running after `ms`. */
async function settled(started: Started, ms: number): Promise<unknown[]> {
  const late = Symbol("late");
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof late>((r) => (timer = setTimeout(() => r(late), ms)));
  const out = await Promise.all(started.outcomes.map((o) => Promise.race([o, deadline])));
  clearTimeout(timer);
  started.stop.abort();
  await Promise.all(started.outcomes);
  return out.map((o) => (o === late ? null : o));
}

test("the clients of a job whose server fails stop with JobFailedError and log the server's reason", async () => {
  const config = jobConfig();
  // a checkpoint of another method: the server refuses to resume from it and fails the job
  const store = await openArtifactStore(w.nats.nc, config.names.job);
  const b = PartitionBundle.load(w.bundle.dir);
  const init = b.initialParams();
  await b.release();
  await writeCheckpoint(store, joinParams(init.prompt, init.tail), {
    job: config.names.job,
    method: "fl-prompt",
    round: 1,
    history: [],
  });
  const clients = await loggedClients(config);
  await new Promise((r) => setTimeout(r, 500)); // polling, before the server is there
  const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, lingerMs: 0 });
  await assert.rejects(server.done, { name: "ResumeMismatchError" });
  const outcomes = await settled(clients, 15_000);
  for (const o of outcomes) {
    assert.ok(o instanceof JobFailedError, `a client ended with ${String(o)}`);
    assert.equal(o.reason, "ResumeMismatchError");
  }
  const lines = clients.logs.filter((l) => l.event === "job-failed");
  assert.deepEqual(lines.map((l) => [l.level, l.client, l.reason]).sort(), [
    ["error", "client-0", "ResumeMismatchError"],
    ["error", "client-1", "ResumeMismatchError"],
    ["error", "client-2", "ResumeMismatchError"],
  ]);
});

test("a client that missed the job.failed event stops when the round state says the job failed after it started", async () => {
  const config = jobConfig();
  const clients = await loggedClients(config, 1);
  await new Promise((r) => setTimeout(r, 300));
  const failed: RoundState = {
    v: 1,
    round: 2,
    phase: "failed",
    selected: [],
    reported: [],
    startedAt: new Date().toISOString(),
    failure: { reason: "JobStoreError", message: "checkpoint of round 2: no room" },
  };
  await (await openRoundState(w.nats.nc, config.names.job)).put(failed, 0);
  const [outcome] = await settled(clients, 10_000);
  assert.ok(outcome instanceof JobFailedError, `the client ended with ${String(outcome)}`);
  assert.equal(outcome.reason, "JobStoreError");
  assert.match(outcome.message, /checkpoint of round 2: no room/);
});

test("the clients of a running job ignore the job.failed of a replaced attempt, sent before or after their server names its own", async () => {
  const config = jobConfig();
  const job = config.names.job;
  await ensureJobResources(w.nats.nc, job);
  // what a replaced server still retrying its events would send, live on the job-end subject
  const staleFailure = (attempt: string): Promise<unknown> =>
    publishEvent(w.nats.nc, {
      v: 1,
      job,
      at: new Date().toISOString(),
      attempt,
      type: "job.failed",
      reason: "ResumeMismatchError",
      message: `the late failure of attempt ${attempt}`,
    });
  const clients = await loggedClients(config);
  await new Promise((r) => setTimeout(r, 500)); // polling, before the server is there
  await staleFailure("replaced-before");
  let started!: () => void;
  const roundStarted = new Promise<void>((r) => (started = r));
  const server = await startTestServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    onEvent: (e) => {
      if (e.type === "round.started" && e.round === 1) started();
    },
  });
  try {
    // (clients that took the first for their job's end never get to round 1)
    await Promise.race([roundStarted, Promise.all(clients.outcomes)]);
    await staleFailure("replaced-during");
    const outcomes = await settled(clients, 60_000);
    for (const [i, o] of outcomes.entries()) {
      assert.ok(o !== null && !(o instanceof Error), `client ${i} ended with ${String(o)}`);
      assert.ok((o as { rounds: number[] }).rounds.length > 0, `client ${i} trained`);
    }
    assert.equal((await server.done).rounds.length, 2, "the job finished");
  } finally {
    await server.stop();
  }
  assert.deepEqual(
    clients.logs.filter((l) => l.event === "job-failed"),
    [],
    "no client took a replaced attempt's failure for its job's",
  );
});
