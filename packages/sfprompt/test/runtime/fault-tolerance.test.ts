// Failures a job must survive, against a real nats-server: a client killed mid-round (quorum and
// round timeout carry the job on), and a server killed and started again (it resumes from the last
// checkpoint, with the checkpoint's parameters).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkpointObjectName,
  jobSubjects,
  openArtifactStore,
  openRoundState,
  type ProgressEvent,
  type RoundState,
} from "@sfprompt/protocol";
import { decodeParamSet, jsonLogger, paramsAllClose, runClient, type ServerHandle } from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { fashionSubsets } from "./bundle-fixture.js";
import {
  jobConfig,
  natsAndBundleHooks,
  startClients,
  startTestServer,
  type TestClient,
} from "./job-fixture.js";

const w = natsAndBundleHooks();

/** The job's clients, each on its own connection (so that a test can cut one). */
function clientsOf(config: RunConfig): Promise<TestClient[]> {
  return startClients(config, { connect: () => w.nats.connect(), bundle: w.bundle.dir });
}

function server(config: RunConfig, onEvent: (e: ProgressEvent) => void): Promise<ServerHandle> {
  return startTestServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, onEvent });
}

test("killing a client mid-round does not stop the job: the round closes at its timeout with the quorum", async () => {
  const config = jobConfig({ training: { rounds: 2, quorum: { count: 2 }, roundTimeoutSeconds: 4 } });
  const clients = await clientsOf(config);
  const events: ProgressEvent[] = [];
  const victim = clients[2]!;
  const handle = await server(config, (e) => {
    events.push(e);
    if (
      e.type === "client.state" &&
      e.client === "client-2" &&
      e.state === "split-training" &&
      !victim.stop.signal.aborted
    ) {
      victim.stop.abort(new Error("killed by the test"));
      void victim.nc.close();
    }
  });
  const result = await handle.done;
  for (const c of clients) c.stop.abort();
  await Promise.all(clients.map((c) => c.done));
  assert.deepEqual(
    result.rounds.map((r) => r.round),
    [1, 2],
  );
  assert.deepEqual(result.rounds[0]!.selected, ["client-0", "client-1", "client-2"]);
  assert.deepEqual(result.rounds[0]!.participants, ["client-0", "client-1"]);
  assert.deepEqual(result.rounds[1]!.participants, ["client-0", "client-1"]);
  assert.ok(!result.rounds[1]!.selected.includes("client-2"), "a dead client is not selected again");
  assert.ok(
    events.some(
      (e) => e.type === "client.state" && e.client === "client-2" && e.state === "lost" && e.round === 1,
    ),
  );
  assert.equal(events.at(-1)?.type, "job.finished");
  assert.ok(victim.stop.signal.aborted && (await victim.done) instanceof Error);
});

test("a server killed after round 1 and started again resumes from the round-1 checkpoint", async () => {
  const config = jobConfig({ training: { rounds: 3, roundTimeoutSeconds: 30 } });
  const clients = await clientsOf(config);
  let stopped: Promise<void> | undefined;
  // the callback runs after round 1, long after `first` is assigned
  const first: ServerHandle = await server(config, (e) => {
    if (e.type === "checkpoint.written" && e.round === 1) stopped ??= first.stop();
  });
  await assert.rejects(first.done);
  await stopped;
  const store = await openArtifactStore(w.nats.nc, config.names.job);
  const bytes = await store.get(checkpointObjectName(1));
  assert.ok(bytes !== null, "the round-1 checkpoint is in the Object Store");
  assert.equal(
    await store.get(checkpointObjectName(2)),
    null,
    "the first server stopped before round 2 ended",
  );
  const checkpoint = decodeParamSet(bytes);

  const second = await server(config, () => {});
  const result = await second.done;
  for (const c of clients) c.stop.abort();
  await Promise.all(clients.map((c) => c.done));
  assert.equal(result.resumedFrom, 1);
  assert.deepEqual(
    result.rounds.map((r) => r.round),
    [1, 2, 3],
  );
  assert.ok(
    paramsAllClose(result.startedFrom, checkpoint, { atol: 0, rtol: 0 }),
    "resumed parameters equal the checkpoint's",
  );
  assert.ok(!paramsAllClose(result.global, checkpoint), "rounds 2 and 3 trained on from there");
  const state = await (await openRoundState(w.nats.nc, config.names.job)).get();
  assert.equal(state?.state.phase, "finished");
  assert.equal(state?.state.checkpoint, checkpointObjectName(3));
});

test("a server stopped after round 3's uploads, with checkpoints every 2 rounds, runs round 3 again with the clients that had uploaded it", async () => {
  // the clients had round 3 accepted by the first server; the second resumes from round 2 and must
  // get their round-3 updates again, not wait for them until the round times out, over and over
  const config = jobConfig({
    training: { rounds: 4, roundTimeoutSeconds: 8 },
    output: { checkpointEvery: 2 },
  });
  const clients = await clientsOf(config);
  let stopped: Promise<void> | undefined;
  const first: ServerHandle = await server(config, (e) => {
    if (e.type === "round.finished" && e.round === 3) stopped ??= first.stop();
  });
  await assert.rejects(first.done);
  await stopped;
  const events: ProgressEvent[] = [];
  const second = await server(config, (e) => events.push(e));
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    second.done,
    new Promise<null>((r) => (timer = setTimeout(() => r(null), 20_000))),
  ]);
  clearTimeout(timer);
  if (result === null) await second.stop();
  for (const c of clients) c.stop.abort();
  const outcomes = await Promise.all(clients.map((c) => c.done));
  assert.ok(
    result !== null,
    `the resumed job did not finish: ${JSON.stringify(events.filter((e) => e.type === "round.failed"))}`,
  );
  assert.equal(result.resumedFrom, 2);
  assert.deepEqual(
    result.rounds.map((r) => [r.round, r.participants]),
    [1, 2, 3, 4].map((r) => [r, ["client-0", "client-1", "client-2"]]),
  );
  assert.deepEqual(
    events.filter((e) => e.type === "round.failed"),
    [],
  );
  for (const o of outcomes) {
    assert.ok(!(o instanceof Error), String(o));
    // round 3 was accepted twice: by the stopped server and by the one that ran it again
    assert.deepEqual(o.rounds, [1, 2, 3, 3, 4]);
  }
});

test("a client waiting for a server that is not there warns once and does not create the job's round-state bucket", async () => {
  // clients start before their server has loaded its model; the operator deletes a finished job's
  // streams while its clients may still poll for a moment
  const config = jobConfig();
  const { train } = await fashionSubsets();
  const stop = new AbortController();
  const logs: Record<string, unknown>[] = [];
  const client = runClient(config, 0, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    data: train,
    signal: stop.signal,
    retryDelayMs: 100,
    logger: jsonLogger({ write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
  }).catch((e: unknown) => e);
  // its first failed poll warns (after it loaded its model: seconds on a loaded machine, so no fixed
  // sleep); ten more retry periods must add no second warning
  for (const end = Date.now() + 60_000; !logs.some((l) => l.level === "warn") && Date.now() < end;)
    await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  stop.abort();
  assert.ok((await client) instanceof Error, "still waiting when stopped");
  const warnings = logs.filter((l) => l.level === "warn");
  assert.deepEqual(
    warnings.map((l) => [l.event, l.subject]),
    [["server-unreachable", jobSubjects(config.names.job).roundReport]],
  );
  assert.match(String(warnings[0]!.hint), /not running yet or restarts/);
  // the job's round-state bucket was only read, never created
  await assert.rejects((await openRoundState(w.nats.nc, config.names.job, { create: false })).get(), {
    name: "StreamNotFoundError",
  });
});

test("a client stops when the round state says the job finished after it started, not before", async () => {
  const config = jobConfig();
  const { train } = await fashionSubsets();
  const state = await openRoundState(w.nats.nc, config.names.job);
  const finished = (): RoundState => ({
    v: 1,
    round: 2,
    phase: "finished",
    selected: [],
    reported: [],
    startedAt: new Date().toISOString(),
  });
  // a finished state from an earlier run of the job: the client keeps waiting for a server
  let revision = await state.put(finished(), 0);
  await new Promise((r) => setTimeout(r, 20));
  const stop = new AbortController();
  let settled = false;
  const client = runClient(config, 0, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    data: train,
    signal: stop.signal,
    retryDelayMs: 100,
  }).finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(settled, false, "a state older than the client does not stop it");
  revision = await state.put(finished(), revision);
  // a generous deadline (a loaded machine): a client that ignored the state would not stop at all
  const result = await Promise.race([client, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
  stop.abort();
  assert.ok(result !== null, "the client stopped after the job finished");
  assert.deepEqual(result.rounds, []);
  assert.ok(revision > 1);
});
