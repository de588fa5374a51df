// The rounds a resumed server runs again, against a real nats-server: a job checkpointing every 2
// rounds whose server stops after round 3 (announced, not checkpointed) and is started again within
// the stream's duplicate window resumes from round 2 and trains round 3 again, under the same run
// attempt; its new round.finished reaches the stream (it is not dropped as a repeat of the first
// run's), and the operator's status and `sfprompt run`'s metrics, folded from the stream, show the
// re-run round's values, and the operator's best accuracy and clients' last rounds are those of the
// rounds as they stand (ADR 0043).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fetchEvents, type ProgressEvent, type RoundFinished } from "@sfprompt/protocol";
import type { ServerHandle } from "@sfprompt/core";
import { emptyMetrics, followAttempt, withRound, type RunMetrics } from "../../../cli/src/run/metrics.js";
import { applyProgressEvent } from "../../../../operator/src/progress/events.js";
import { emptySnapshot, type ProgressSnapshot } from "../../../../operator/src/progress/snapshot.js";
import {
  clientResults,
  jobConfig,
  natsAndBundleHooks,
  startClients,
  startTestServer,
} from "./job-fixture.js";

const w = natsAndBundleHooks();

/**
 * Starts the job's server; resolves with it and the round.finished of `round` it announced. With
 * `stopAfter`, the server is stopped as it announces that round (before the next can finish).
 */
async function serverUntil(
  config: ReturnType<typeof jobConfig>,
  round: number,
  stopAfter = false,
): Promise<{ server: ServerHandle; finished: Promise<RoundFinished>; stopped: Promise<void> }> {
  let told!: (e: RoundFinished) => void;
  const finished = new Promise<RoundFinished>((r) => (told = r));
  let stopped = Promise.resolve();
  const server: ServerHandle = await startTestServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    onEvent: (e) => {
      if (e.type !== "round.finished" || e.round !== round) return;
      if (stopAfter) stopped = server.stop();
      told(e);
    },
  });
  return { server, finished, stopped: finished.then(() => stopped) };
}

async function streamed(job: string): Promise<ProgressEvent[]> {
  const got = await fetchEvents(w.nats.nc, job, `read-${Date.now()}`, { max: 1000 });
  return got.flatMap((d) => (d.ok ? [d.event] : []));
}

/** What `sfprompt run` records from the stream (method-run.ts's fold). */
function cliMetrics(job: string, events: readonly ProgressEvent[]): RunMetrics {
  let m = emptyMetrics(job, "sfprompt");
  for (const e of events) {
    const followed = followAttempt(m, e);
    if (followed.verdict === "stale") continue;
    m = followed.metrics;
    if (e.type === "round.finished") m = withRound(m, e);
  }
  return m;
}

/** What the operator folds into the job's status. */
function operatorView(events: readonly ProgressEvent[]): ProgressSnapshot {
  return events.reduce((s, e, i) => applyProgressEvent(s, e, i + 1), emptySnapshot());
}

test("a server resumed after an announced, unsaved round 3 trains it again, and the stream's consumers show the new round 3", async () => {
  const config = jobConfig({ training: { rounds: 4 }, output: { checkpointEvery: 2 } });
  const job = config.names.job;
  const clients = await startClients(config, { connect: () => w.nats.connect(), bundle: w.bundle.dir });
  const first = await serverUntil(config, 3, true);
  const firstRound3 = await first.finished;
  await first.stopped;
  // round 3's event went out (the publisher sends what it queued while the connection lives)
  for (let i = 0; i < 50; i++) {
    const events = await streamed(job);
    if (events.some((e) => e.type === "round.finished" && e.round === 3)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // client-2 goes too: the re-run round 3 is trained by two clients, so its values differ
  clients[2]!.stop.abort();
  assert.deepEqual(firstRound3.participants, ["client-0", "client-1", "client-2"]);

  const second = await serverUntil(config, 3);
  const secondRound3 = await second.finished;
  const result = await second.server.done;
  assert.equal(result.resumedFrom, 2, "resumed from round 2's checkpoint");
  await clientResults(clients.slice(0, 2));
  assert.deepEqual(secondRound3.participants, ["client-0", "client-1"]);

  const events = await streamed(job);
  const round3 = events.filter((e): e is RoundFinished => e.type === "round.finished" && e.round === 3);
  assert.equal(round3.length, 2, "both runs of round 3 are on the stream");
  assert.equal(round3[0]!.attempt, round3[1]!.attempt, "under the same attempt");
  assert.notEqual(round3[0]!.launch, round3[1]!.launch, "from two server starts");

  const cli = cliMetrics(job, events).rounds.find((r) => r.round === 3)!;
  assert.deepEqual(
    [cli.clients, cli.samples, cli.loss, cli.bytes.up, cli.bytes.down],
    [
      secondRound3.participants,
      secondRound3.samples,
      secondRound3.loss,
      secondRound3.bytes.up,
      secondRound3.bytes.down,
    ],
  );
  const status = operatorView(events);
  assert.deepEqual(status.roundBytes[3], round3[1]!.bytes, "the status counts the re-run round's bytes");
  assert.notDeepEqual(status.roundBytes[3], round3[0]!.bytes, "which are not the first run's");
  assert.equal(status.round, 4);

  // Rounds 3 and 4 were both run again, so the rounds as they stand are each round's latest report:
  // the best accuracy is theirs, not the discarded round 3's, and client-2, left out of the re-run,
  // last took part in a round the first run checkpointed.
  const standing = [1, 2, 3, 4].map((r) =>
    events.findLast((e) => e.type === "round.finished" && e.round === r),
  );
  const results = standing.map((e) => e as RoundFinished);
  const best = Math.max(...results.map((e) => e.accuracy));
  assert.deepEqual(
    [status.bestAccuracy, status.bestRound],
    [best, results.find((e) => e.accuracy === best)!.round],
    "the best of the rounds as they stand",
  );
  const lastIn = (client: string): number =>
    Math.max(...results.filter((e) => e.participants.includes(client)).map((e) => e.round));
  assert.deepEqual(
    [0, 1, 2].map((i) => status.clients[i]?.lastRound),
    ["client-0", "client-1", "client-2"].map(lastIn),
  );
  assert.notEqual(status.clients[2]?.lastRound, 3, "client-2's round 3 was run again without it");
});
