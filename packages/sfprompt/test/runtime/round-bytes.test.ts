// The bytes a job's rounds report add up to what the server's ledger counted, against a real
// nats-server: with fewer clients per round than clients, the idle ones keep polling under a round
// they never train, and those bytes belong in the rounds' totals too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { summarizeTraffic, type ProgressEvent, type TrafficSnapshot } from "@sfprompt/protocol";
import { jsonLogger, type ServerHandle } from "@sfprompt/core";
import {
  clientResults,
  jobConfig,
  natsAndBundleHooks,
  startClients,
  startTestServer,
} from "./job-fixture.js";

const w = natsAndBundleHooks();

type Bytes = {
  up: number;
  down: number;
  upByKind: Record<string, number>;
  downByKind: Record<string, number>;
};

function add(into: Bytes, b: Partial<Bytes>): void {
  into.up += b.up ?? 0;
  into.down += b.down ?? 0;
  for (const [k, v] of Object.entries(b.upByKind ?? {})) into.upByKind[k] = (into.upByKind[k] ?? 0) + v;
  for (const [k, v] of Object.entries(b.downByKind ?? {})) into.downByKind[k] = (into.downByKind[k] ?? 0) + v;
}

/** The ledger's bytes of rounds up to `last` (polls for the round after it wait for no round). */
function ledgerThrough(traffic: TrafficSnapshot, last: number): Bytes {
  const s = summarizeTraffic({ entries: traffic.entries.filter((e) => e.round <= last) });
  return {
    up: s.received,
    down: s.sent,
    upByKind: s.receivedByKind as Record<string, number>,
    downByKind: s.sentByKind as Record<string, number>,
  };
}

test("with one client of three per round, the rounds' bytes add up to every byte the server counted, idle polls included", async () => {
  const config = jobConfig({
    clients: { count: 3, perRound: { count: 1 } },
    training: { rounds: 3, quorum: { count: 1 }, roundTimeoutSeconds: 30 },
    output: { checkpointEvery: 1 },
  });
  const stop = new AbortController();
  const clients = await startClients(config, {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    signal: stop.signal,
  });
  const events: ProgressEvent[] = [];
  // the ledger as it was when the last round was summed (its log line follows without a pause): the
  // clients' last polls, answered after it, belong to no round
  let atLastSum: TrafficSnapshot | undefined;
  const logger = jsonLogger({
    write: (l) => {
      const line = JSON.parse(l) as Record<string, unknown>;
      if (line.event === "round-finished" && line.round === 3) atLastSum = server.stats().traffic;
    },
  });
  const server: ServerHandle = await startTestServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    logger,
    onEvent: (e) => events.push(e),
    pollWaitMs: 300,
  });
  const result = await server.done;
  const outcomes = await clientResults(clients);
  const idle = outcomes.filter((o) => o.rounds.length < 3).map((o) => o.client);
  assert.ok(idle.length > 0, "some client sat out a round, polling");

  const rounds: Bytes = { up: 0, down: 0, upByKind: {}, downByKind: {} };
  for (const r of result.rounds) add(rounds, r.bytes as Partial<Bytes>);
  assert.ok(atLastSum !== undefined);
  assert.deepEqual(rounds, ledgerThrough(atLastSum, 3), "the rounds hold every byte counted until then");

  const announced: Bytes = { up: 0, down: 0, upByKind: {}, downByKind: {} };
  for (const e of events) if (e.type === "round.finished") add(announced, e.bytes as Partial<Bytes>);
  const finished = events.find((e) => e.type === "job.finished");
  assert.ok(finished?.type === "job.finished");
  assert.deepEqual(
    [finished.bytes.up, finished.bytes.down, finished.bytes.byKind.control],
    [announced.up, announced.down, (announced.upByKind.control ?? 0) + (announced.downByKind.control ?? 0)],
  );
  assert.equal(announced.up + announced.down, rounds.up + rounds.down);
  stop.abort();
});
