// The best accuracy a resumed server announces (ADR 0046, amendment 5), against a real nats-server and
// real clients: a job whose event stream was lost (a NATS without persistence restarted) and whose
// server then goes on from its checkpoint says in run.resumed which of the checkpoint's rounds was
// best, as their round.finished gave them, so the operator's status, folded from the new stream
// only, keeps that best instead of the best of the rounds trained since.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  ensureJobResources,
  eventStreamName,
  fetchEvents,
  type ProgressEvent,
  type RoundFinished,
} from "@sfprompt/protocol";
import { applyProgressEvent } from "../../../../operator/src/progress/events.js";
import { emptySnapshot, type ProgressSnapshot } from "../../../../operator/src/progress/snapshot.js";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";
import { jobRuns } from "./job-runs.js";

const w = natsAndBundleHooks();
const { newName, runJob } = jobRuns(w);

/** The best accuracy of `rounds` and the earliest round of it, as the operator counts them (ADR 0043). */
function bestOf(rounds: readonly RoundFinished[]): { round: number; accuracy: number } {
  const accuracy = Math.max(...rounds.map((e) => e.accuracy));
  const round = Math.min(...rounds.filter((e) => e.accuracy === accuracy).map((e) => e.round));
  return { round, accuracy };
}

const finishedOf = (events: readonly ProgressEvent[]): RoundFinished[] =>
  events.filter((e): e is RoundFinished => e.type === "round.finished");

test("a server going on from its round-3 checkpoint after the job's event stream was lost announces the best of rounds 1–3, and the operator's status from the new stream keeps it", async () => {
  const name = newName("lost");
  // evaluated in rounds 2 and 3 (the last): round 1's round.finished says 0, as the best counts it
  const spec = { training: { evaluation: { everyRounds: 2 } } };
  const config3 = jobConfig({ ...spec, training: { ...spec.training, rounds: 3 } }, name);
  const first = await runJob(config3);
  const before = finishedOf(first.events);
  assert.deepEqual(
    before.map((e) => e.round),
    [1, 2, 3],
  );

  // the stream is lost; the checkpoints (Object Store) are not
  const job = config3.names.job;
  const jsm = await jetstreamManager(w.nats.nc);
  await jsm.streams.delete(eventStreamName(job));
  await ensureJobResources(w.nats.nc, job);

  const config4 = jobConfig({ ...spec, training: { ...spec.training, rounds: 4 } }, name);
  const second = await runJob(config4);
  assert.equal(second.result.resumedFrom, 3);
  const resumed = second.events.find((e) => e.type === "run.resumed");
  assert.ok(resumed?.type === "run.resumed", "run.resumed was published");
  assert.equal(resumed.round, 3);
  assert.deepEqual(resumed.best, bestOf(before), "the best of rounds 1–3 as their round.finished gave them");

  // the operator folds the stream as it is now: run.resumed, round 4, job.finished
  const stream = (await fetchEvents(w.nats.nc, job, "reader", { max: 1000 })).flatMap((d) =>
    d.ok ? [d.event] : [],
  );
  assert.deepEqual(
    finishedOf(stream).map((e) => e.round),
    [4],
    "the new stream holds only round 4",
  );
  const fold = (events: readonly ProgressEvent[]): ProgressSnapshot =>
    events.reduce((s, e, i) => applyProgressEvent(s, e, i + 1), emptySnapshot());
  // before round 4 finishes: the best of the checkpoint's rounds, which the new stream does not hold
  const upToResumed = stream.slice(0, stream.findIndex((e) => e.type === "run.resumed") + 1);
  assert.equal(upToResumed.at(-1)?.type, "run.resumed", "the new stream holds run.resumed");
  const atResume = fold(upToResumed);
  const checkpointBest = bestOf(before);
  assert.deepEqual(
    [atResume.bestAccuracy, atResume.bestRound],
    [checkpointBest.accuracy, checkpointBest.round],
  );
  // after it: the best of rounds 1–4, as the operator would have had it from the whole first stream
  const status = fold(stream);
  const want = bestOf([...before, ...finishedOf(stream)]);
  assert.deepEqual([status.bestAccuracy, status.bestRound], [want.accuracy, want.round]);
});
