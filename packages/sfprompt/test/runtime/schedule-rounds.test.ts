// The learning-rate schedule of running clients follows their server's rounds, against a real
// nats-server and real ONNX sessions: a client keeps the run config it started with (ADR 0040), so
// when spec.training.rounds is raised only the server's poll replies carry the new count (ADR 0024);
// for the prompt + tail trainer and for FL full's, which trains every weight of the whole model.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PartitionBundle,
  PollReplySchema,
  jsonLogger,
  learningRateForRound,
  prepareWholeModel,
  wholeModelGlobal,
  wholeModelTrainer,
  type ClientOptions,
  type ServerOptions,
} from "@sfprompt/core";
import {
  clientResults,
  jobConfig,
  natsAndBundleHooks,
  startClients,
  startTestServer,
} from "./job-fixture.js";

const w = natsAndBundleHooks();

/** The job's spec with `rounds` rounds: 2 clients, both in every round, a cosine schedule. */
const spec = (rounds: number, method = "sfprompt"): Record<string, unknown> => ({
  method,
  clients: { count: 2, perRound: { count: 2 } },
  training: {
    rounds,
    quorum: { count: 2 },
    optimizer: { name: "adam", learningRate: 0.01, schedule: "cosine" },
  },
});

/**
 * Runs one job whose clients start with a 2-round config and whose server runs 3 rounds (its spec's
 * rounds raised after the clients started); returns the clients' round-trained logs.
 */
async function raisedRounds(
  method: string,
  o: { trainer?: ClientOptions["trainer"]; server?: Partial<ServerOptions> } = {},
): Promise<Record<string, unknown>[]> {
  const name = `schedule-${method}-${process.pid}`;
  const logs: Record<string, unknown>[] = [];
  const clients = await startClients(jobConfig(spec(2, method), name), {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    logger: jsonLogger({ write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
    ...(o.trainer ? { trainer: o.trainer } : {}),
  });
  const server = await startTestServer(jobConfig(spec(3, method), name), {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    ...o.server,
  });
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
  return logs.filter((l) => l.event === "round-trained");
}

/** Each client's rate in each round is the cosine over the server's 3 rounds, not its own 2. */
function assertScheduledOverServerRounds(trained: readonly Record<string, unknown>[]): void {
  const optimizer = jobConfig(spec(3)).training.optimizer;
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
}

test("clients started with 2 rounds whose server runs 3 anneal the learning rate over 3 rounds", async () => {
  assertScheduledOverServerRounds(await raisedRounds("sfprompt"));
});

test("FL full clients started with 2 rounds whose server runs 3 anneal all weights' rate over 3 rounds", async () => {
  // the whole model, as runLocalJob prepares it for fl-full: the same split options as the bundle
  const probe = PartitionBundle.load(w.bundle.dir, { executionProvider: "cpu" });
  try {
    const whole = prepareWholeModel(w.bundle.model, probe.manifest, probe.symbolicDims());
    const globalModel = await wholeModelGlobal(whole, probe);
    try {
      const trained = await raisedRounds("fl-full", {
        trainer: wholeModelTrainer(whole),
        server: { bundle: probe, globalModel },
      });
      assertScheduledOverServerRounds(trained);
    } finally {
      await globalModel.release();
    }
  } finally {
    await probe.release();
  }
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
