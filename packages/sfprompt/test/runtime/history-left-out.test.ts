// A resumed server's checkpoint round too large for one run.history event (ADR 0046, amendment 8),
// against a real nats-server and the real server on the tiny bundle: the round is not sent, the others
// are, and the server says so in one warning with the job and the round, instead of nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fetchEvents, openArtifactStore, type ProgressEvent } from "@sfprompt/protocol";
import {
  PartitionBundle,
  checkpointSpec,
  joinParams,
  startServer,
  writeCheckpoint,
  type RoundMetrics,
} from "@sfprompt/core";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";
import { logsUntil } from "./job-runs.js";

const w = natsAndBundleHooks();

/** A checkpoint history row of `round` with `clients` participants. */
function row(round: number, clients: number): RoundMetrics {
  const participants = Array.from({ length: clients }, (_, i) => `client-${i}`);
  return {
    round,
    loss: 1 / round,
    accuracy: 0.5,
    evalLoss: 1,
    participants,
    selected: participants,
    samples: 50,
    kept: 40,
    bytes: { up: 300, down: 100, byKind: { activation: 400 } },
    clientFlops: 1,
    durationMs: 900,
    finishedAt: new Date(Date.UTC(2026, 10, 29, 4, 0, round)).toISOString(),
  };
}

test("a history round too large for one run.history event of the job's max_payload is left out with a warning naming the job and the round; the other rounds are sent", async () => {
  const config = jobConfig({ training: { rounds: 4 }, transport: { maxPayload: 4096 } });
  const job = config.names.job;
  const bundle = PartitionBundle.load(w.bundle.dir);
  const init = bundle.initialParams();
  void bundle.release();
  // round 2's 400 participants alone make an event past 4 KiB; rounds 1 and 3 have 3 each
  await writeCheckpoint(await openArtifactStore(w.nats.nc, job), joinParams(init.prompt, init.tail), {
    job,
    method: config.method,
    round: 3,
    history: [row(1, 3), row(2, 400), row(3, 3)],
    spec: checkpointSpec(config),
  });
  const { logs, logger } = logsUntil("history-rounds-left-out");
  const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, logger, pollWaitMs: 200 });
  try {
    // on the wire: rounds 1 and 3 in run.history, before run.resumed (the warning is logged as they
    // are queued, so it is there once run.resumed is)
    const events: ProgressEvent[] = [];
    const deadline = Date.now() + 10_000;
    while (!events.some((e) => e.type === "run.resumed") && Date.now() < deadline) {
      const got = await fetchEvents(w.nats.nc, job, "reader", { max: 100 });
      events.push(...got.flatMap((d) => (d.ok ? [d.event] : [])));
    }
    assert.ok(
      events.some((e) => e.type === "run.resumed"),
      "run.resumed on the job's stream",
    );
    const sent = events.flatMap((e) => (e.type === "run.history" ? e.rounds.map((r) => r.round) : []));
    assert.deepEqual(sent, [1, 3]);
    const line = logs.find((l) => l.event === "history-rounds-left-out");
    assert.ok(line, "a warning for the left-out round");
    assert.equal(line.level, "warn");
    assert.equal(line.job, job);
    assert.equal(line.round, 2);
    assert.equal(line.checkpoint, 3);
    assert.deepEqual(line.rounds, [2]);
    assert.equal(line.count, 1);
    assert.ok((line.largestBytes as number) > (line.limitBytes as number), JSON.stringify(line));
    assert.ok((line.limitBytes as number) < 4096);
    assert.match(line.why as string, /spec\.transport\.maxPayload/);
  } finally {
    await server.stop();
  }
});
