// The status's loss and accuracy after a server resumed from a checkpoint, before its next round
// finishes (real kube-apiserver, real nats-server, the operator in-process): run.resumed carries the
// checkpoint round's (ADR 0046, amendments 3 and 4), and the status shows them where the stream has
// no round.finished of that round, instead of none or the round before's; and the best accuracy of
// the checkpoint's rounds (amendment 5), which the status keeps after its stream was lost; and each
// client's samples and kept as written before the loss, for the rounds that stand (ADR 0023,
// amendment 16).
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobToken } from "@sfprompt/api";
import {
  ensureJobResources,
  eventStreamName,
  publishEvent,
  type RoundFinished,
  type RunHistory,
  type RunResumed,
} from "@sfprompt/protocol";
import { jobManifest } from "../fixtures.js";
import { eventBase, roundFinished } from "./progress-events.js";
import { createJob, operatorWorldHooks, waitForJob, type JobObject } from "./harness.js";

const w = operatorWorldHooks();

/** Job `name` (1 client, 5 rounds) created, Pending, with its event stream; its data-plane token. */
async function started(name: string): Promise<string> {
  await createJob(w.world, jobManifest(name, { clients: { count: 1 }, training: { rounds: 5 } }));
  await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
  const job = jobToken("default", name);
  await ensureJobResources(w.nc, job);
  return job;
}

/** The server's run.resumed from the job's own checkpoint of `round`, with that round's results. */
const resumed = (job: string, round: number, over: Partial<RunResumed> = {}): RunResumed => ({
  ...eventBase(job),
  type: "run.resumed",
  round,
  bucket: `sfp-${job}-artifacts`,
  object: `checkpoints/resumed-${round}`,
  loss: 0.25,
  accuracy: 0.75,
  ...over,
});

/** round.finished of `round` (the fixture's) with held-out accuracy `accuracy`. */
const finishedWith = (job: string, round: number, accuracy: number): RoundFinished => ({
  ...(roundFinished(job, round) as RoundFinished),
  accuracy,
});

const metricsOf = (j: JobObject): unknown => j.status?.metrics;

test("a server resumed from its own checkpoint after the stream was lost (NATS without persistence restarted): the status shows the checkpoint's loss and accuracy, not none", async () => {
  const job = await started("lost");
  for (const r of [1, 2, 3]) await publishEvent(w.nc, roundFinished(job, r));
  await waitForJob(w.world, "lost", (j) => j.status?.round === 3, "round 3");

  const jsm = await jetstreamManager(w.nc);
  await jsm.streams.delete(eventStreamName(job));
  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, resumed(job, 3));
  const j = await waitForJob(
    w.world,
    "lost",
    (x) => (x.status?.lastCheckpoint as { object?: string } | undefined)?.object === "checkpoints/resumed-3",
    "the new stream's run.resumed",
  );
  assert.deepEqual([j.status!.round, j.status!.progress], [3, "3/5"]);
  assert.deepEqual(metricsOf(j), { loss: 0.25, accuracy: 0.75 });
});

test("a checkpoint past the last round.finished in the stream (the server stopped before sending it): the status shows that round with its own loss and accuracy, not the round before's", async () => {
  const job = await started("ahead");
  for (const r of [1, 2]) await publishEvent(w.nc, roundFinished(job, r));
  await waitForJob(w.world, "ahead", (j) => j.status?.round === 2, "round 2");
  await publishEvent(w.nc, resumed(job, 3));
  const j = await waitForJob(w.world, "ahead", (x) => x.status?.round === 3, "round 3 from run.resumed");
  assert.equal(j.status!.progress, "3/5");
  // the best stays the best of the rounds reported: this event (an older server's) carries no best
  assert.deepEqual(metricsOf(j), { loss: 0.25, accuracy: 0.75, bestAccuracy: 0.5, bestRound: 1 });
});

test("a resume from a checkpoint older than the rounds reported leaves the latest round's loss and accuracy", async () => {
  const job = await started("older");
  for (const r of [1, 2, 3]) await publishEvent(w.nc, roundFinished(job, r));
  await publishEvent(w.nc, resumed(job, 2));
  const j = await waitForJob(
    w.world,
    "older",
    (x) => (x.status?.lastCheckpoint as { object?: string } | undefined)?.object === "checkpoints/resumed-2",
    "run.resumed folded",
  );
  assert.equal(j.status!.round, 3);
  assert.deepEqual(metricsOf(j), { loss: 1 / 3, accuracy: 0.5, bestAccuracy: 0.5, bestRound: 1 });
});

test("a lost stream keeps the best accuracy of the checkpoint's rounds, which run.resumed carries, over the rounds of the new stream", async () => {
  const job = await started("best");
  const accuracies = [0.6, 0.8, 0.7];
  for (const [i, accuracy] of accuracies.entries())
    await publishEvent(w.nc, finishedWith(job, i + 1, accuracy));
  await waitForJob(w.world, "best", (j) => j.status?.round === 3, "round 3");

  const jsm = await jetstreamManager(w.nc);
  await jsm.streams.delete(eventStreamName(job));
  await ensureJobResources(w.nc, job);
  await publishEvent(
    w.nc,
    resumed(job, 3, { loss: 1 / 3, accuracy: 0.7, best: { round: 2, accuracy: 0.8 } }),
  );
  const atResume = await waitForJob(
    w.world,
    "best",
    (x) => (x.status?.lastCheckpoint as { object?: string } | undefined)?.object === "checkpoints/resumed-3",
    "the new stream's run.resumed",
  );
  assert.deepEqual(metricsOf(atResume), { loss: 1 / 3, accuracy: 0.7, bestAccuracy: 0.8, bestRound: 2 });

  // round 4, the new stream's first, is below round 2: the best stays round 2's
  await publishEvent(w.nc, finishedWith(job, 4, 0.75));
  const j = await waitForJob(w.world, "best", (x) => x.status?.round === 4, "round 4");
  assert.deepEqual(metricsOf(j), { loss: 1 / 4, accuracy: 0.75, bestAccuracy: 0.8, bestRound: 2 });
});

/** round.finished of `round` in which client-0 had `samples` and kept `kept` (a server's contributions). */
const contributed = (job: string, round: number, samples: number, kept: number): RoundFinished => ({
  ...(roundFinished(job, round) as RoundFinished),
  samples: kept,
  contributions: [{ client: "client-0", samples, kept }],
});

type ClientCounts = { samples?: number; kept?: number; lastRound?: number };
const countsOf = (j: JobObject): ClientCounts => {
  const c = (j.status?.clients as ClientCounts[] | undefined)?.[0] ?? {};
  return { samples: c.samples, kept: c.kept, lastRound: c.lastRound };
};

test("a lost stream keeps each client's samples and kept of the rounds that stand, which run.history does not carry, until its next round reports them", async () => {
  const job = await started("counts");
  for (const r of [1, 2, 3]) await publishEvent(w.nc, contributed(job, r, 40, 30 - r));
  await waitForJob(w.world, "counts", (j) => countsOf(j).lastRound === 3, "client-0's round 3");

  const jsm = await jetstreamManager(w.nc);
  await jsm.streams.delete(eventStreamName(job));
  await ensureJobResources(w.nc, job);
  const history: RunHistory = {
    ...eventBase(job),
    type: "run.history",
    round: 3,
    rounds: [1, 2, 3].map((r) => ({
      round: r,
      loss: 1 / r,
      accuracy: 0.5,
      participants: ["client-0"],
      samples: 30 - r,
      bytes: { up: 100, down: 100, byKind: {} },
      durationMs: 1,
    })),
  };
  await publishEvent(w.nc, history);
  await publishEvent(w.nc, resumed(job, 3));
  const atResume = await waitForJob(
    w.world,
    "counts",
    (x) => (x.status?.lastCheckpoint as { object?: string } | undefined)?.object === "checkpoints/resumed-3",
    "the new stream's run.resumed",
  );
  assert.deepEqual(countsOf(atResume), { samples: 40, kept: 27, lastRound: 3 });

  // round 4 under way (the client says it trains in it): still round 3's counts
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "client.state",
    client: "client-0",
    state: "split-training",
    round: 4,
  });
  const training = await waitForJob(
    w.world,
    "counts",
    (x) => countsOf(x).lastRound === 4,
    "client-0 in round 4",
  );
  assert.deepEqual(countsOf(training), { samples: 40, kept: 27, lastRound: 4 });

  // its round 4 finished: that round's counts
  await publishEvent(w.nc, contributed(job, 4, 40, 20));
  const next = await waitForJob(w.world, "counts", (x) => countsOf(x).kept === 20, "round 4's counts");
  assert.deepEqual(countsOf(next), { samples: 40, kept: 20, lastRound: 4 });
});

test("a resume from a checkpoint older than a client's last round leaves its counts out: the rounds they were of were taken back", async () => {
  const job = await started("counts-older");
  for (const r of [1, 2, 3]) await publishEvent(w.nc, contributed(job, r, 40, 30 - r));
  await waitForJob(w.world, "counts-older", (j) => countsOf(j).lastRound === 3, "client-0's round 3");

  const jsm = await jetstreamManager(w.nc);
  await jsm.streams.delete(eventStreamName(job));
  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "run.history",
    round: 2,
    rounds: [1, 2].map((r) => ({
      round: r,
      loss: 1 / r,
      accuracy: 0.5,
      participants: ["client-0"],
      samples: 30 - r,
      bytes: { up: 100, down: 100, byKind: {} },
      durationMs: 1,
    })),
  });
  await publishEvent(w.nc, resumed(job, 2));
  const j = await waitForJob(
    w.world,
    "counts-older",
    (x) => countsOf(x).lastRound === 2,
    "client-0's last round back at the checkpoint's",
  );
  assert.deepEqual(countsOf(j), { samples: undefined, kept: undefined, lastRound: 2 });
});
