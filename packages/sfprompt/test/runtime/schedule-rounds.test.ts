// The learning-rate schedule of running clients follows their server's rounds, against a real
// nats-server and real ONNX sessions: a client keeps the run config it started with (ADR 0040), so
// when spec.training.rounds is raised only the server's poll replies carry the new count (ADR 0024).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PollReplySchema, jsonLogger, learningRateForRound } from "@sfprompt/core";
import {
  clientResults,
  jobConfig,
  natsAndBundleHooks,
  startClients,
  startTestServer,
} from "./job-fixture.js";

const w = natsAndBundleHooks();

test("clients started with 2 rounds whose server runs 3 anneal the learning rate over 3 rounds", async () => {
  const spec = (rounds: number): Record<string, unknown> => ({
    clients: { count: 2, perRound: { count: 2 } },
    training: {
      rounds,
      quorum: { count: 2 },
      optimizer: { name: "adam", learningRate: 0.01, schedule: "cosine" },
    },
  });
  // one job, its spec's rounds raised from 2 to 3 after the clients started
  const name = `schedule-${process.pid}`;
  const clientConfig = jobConfig(spec(2), name);
  const serverConfig = jobConfig(spec(3), name);
  const optimizer = serverConfig.training.optimizer;
  const logs: Record<string, unknown>[] = [];
  const clients = await startClients(clientConfig, {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    logger: jsonLogger({ write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
  });
  const server = await startTestServer(serverConfig, { nc: w.nats.nc, bundle: w.bundle.dir });
  try {
    assert.equal((await server.done).rounds.length, 3, "the server ran its 3 rounds");
    const results = await clientResults(clients);
    assert.deepEqual(
      results.map((r) => r.rounds),
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
    );
  } finally {
    await server.stop();
  }
  const trained = logs.filter((l) => l.event === "round-trained");
  assert.equal(trained.length, 6, "each client logged each round it trained");
  for (const l of trained) {
    const round = l.round as number;
    assert.equal(l.rounds, 3, `${String(l.client)} round ${round} scheduled over the server's rounds`);
    const want = learningRateForRound(optimizer, round, 3);
    assert.ok(Math.abs((l.learningRate as number) - want) < 1e-12, `${String(l.client)} round ${round}`);
  }
  // the round past the clients' own config: its rate is not the one their 2-round schedule gives
  const third = trained.find((l) => l.round === 3)!;
  assert.notEqual(third.learningRate, learningRateForRound(optimizer, 3, 2));
});

test("a train reply carries the server's rounds, an older server's without them still reads", () => {
  const cases = [
    { name: "a reply with the server's rounds", rounds: 5, ok: true },
    { name: "an older server's reply without rounds", rounds: undefined, ok: true },
    { name: "a reply with zero rounds", rounds: 0, ok: false },
    { name: "a reply with a fractional count", rounds: 2.5, ok: false },
  ];
  for (const c of cases) {
    const reply = { action: "train", round: 1, deadline: new Date().toISOString(), rounds: c.rounds };
    const parsed = PollReplySchema.safeParse(reply);
    assert.equal(parsed.success, c.ok, c.name);
    if (parsed.success && parsed.data.action === "train") assert.equal(parsed.data.rounds, c.rounds, c.name);
  }
});
