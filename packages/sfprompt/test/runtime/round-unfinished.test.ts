// Which round a client names when the job ends without its update (round-unfinished, ADR 0041), with a
// real nats-server, the job's server in this process and real ONNX Runtime sessions training the tiny
// ViT: client-1 is held in its first round until the round closed without it (quorum 1 of 2, a 3 s
// round timeout). It names that round only if the job ended in it, not when the job went on to a
// round it was not selected for.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bundleFlops,
  localBody,
  partitionForJob,
  runClient,
  trainRound,
  type ClientContext,
  type Logger,
  type RoundTrainer,
} from "@sfprompt/core";
import type { ProgressEvent } from "@sfprompt/protocol";
import { fashionSubsets } from "./bundle-fixture.js";
import { jobConfig, natsAndBundleHooks, startTestServer } from "./job-fixture.js";

const w = natsAndBundleHooks();

interface Logged {
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

function memoryLogger(into: Logged[]): Logger {
  const logger: Logger = {
    log: (_level, event, fields = {}) => void into.push({ event, fields }),
    child: () => logger,
  };
  return logger;
}

/**
 * The prompt + tail trainer with the body in this process (real sessions), whose first round waits
 * for `hold` (or the client's signal) before it trains: the round closes without this client.
 */
function heldTrainer(hold: Promise<void>): (ctx: ClientContext) => RoundTrainer {
  return (c) => (round, global, rounds) => {
    const train = (): ReturnType<RoundTrainer> =>
      trainRound(
        {
          bundle: c.bundle,
          config: c.config,
          clientIndex: c.index,
          data: c.data,
          body: localBody(c.bundle),
          flops: bundleFlops(c.bundle),
          logger: c.logger,
          ...(c.signal ? { signal: c.signal } : {}),
          onState: (state) => c.report({ op: "state", state, round }),
        },
        round,
        global,
        rounds,
      );
    if (round !== 1) return train();
    const aborted = new Promise<never>((_, reject) => {
      c.signal?.addEventListener("abort", () => reject(c.signal?.reason as Error), { once: true });
    });
    return Promise.race([hold, aborted]).then(train);
  };
}

const cases = [
  {
    name: "a job that ends in the round the client was held out of names that round",
    rounds: 1,
    holdUntil: undefined,
    expect: [1],
  },
  {
    name: "a job that goes on to a round the client is not selected for names no round",
    rounds: 2,
    holdUntil: 2,
    expect: [],
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const config = jobConfig({
      clients: { count: 2, perRound: { count: 2 } },
      training: { rounds: c.rounds, quorum: { count: 1 }, roundTimeoutSeconds: 3 },
    });
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const rounds: number[] = [];
    const server = await startTestServer(config, {
      nc: w.nats.nc,
      bundle: w.bundle.dir,
      onEvent: (e: ProgressEvent) => {
        if (e.type === "round.started" && e.round === c.holdUntil) release();
        if (e.type === "round.finished") rounds.push(e.round);
      },
    });
    const { train } = await fashionSubsets();
    const shards = partitionForJob(train, config.data.partitioning, config.clients.count);
    const logs: Logged[] = [];
    const results = await Promise.all(
      [0, 1].map(async (index) =>
        runClient(config, index, {
          nc: await w.nats.connect(),
          bundle: w.bundle.dir,
          data: shards[index]!,
          retryDelayMs: 200,
          ...(index === 1 ? { trainer: heldTrainer(hold), logger: memoryLogger(logs) } : {}),
        }),
      ),
    );
    await server.done;
    assert.deepEqual(rounds, c.rounds === 1 ? [1] : [1, 2], "the rounds the job finished");
    assert.deepEqual(results[1]!.rounds, [], "client-1's update was in no round");
    assert.deepEqual(
      logs.filter((l) => l.event === "round-unfinished").map((l) => l.fields["round"]),
      c.expect,
      JSON.stringify(logs.map((l) => l.event)),
    );
    assert.ok(logs.some((l) => l.event === "client-done"));
  });
}
