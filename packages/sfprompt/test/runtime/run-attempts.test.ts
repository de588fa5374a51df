// Run attempts of a job against a real nats-server and real ORT sessions (ADR 0036): a job run again
// from scratch within the stream's duplicate window publishes every round of its new attempt, a
// resumed server goes on under its checkpoint's attempt, and a client's job-end listener receives the
// job's end but none of its round or client-state events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeParamSetWithMeta, runLocalJob, type LocalJobResult } from "@sfprompt/core";
import {
  fetchEvents,
  jobSubjects,
  openArtifactStore,
  type ProgressEvent,
  type RoundFinished,
} from "@sfprompt/protocol";
import type { RunConfig } from "@sfprompt/api";
import { JobEndWatch } from "../../src/client/job-end.js";
import { JobFinishedError } from "../../src/runtime/errors.js";
import { fashionSubsets } from "./bundle-fixture.js";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";

const w = natsAndBundleHooks();
let reads = 0;

async function runJob(config: RunConfig): Promise<LocalJobResult> {
  const { train, test: held } = await fashionSubsets();
  return runLocalJob(config, { bundle: w.bundle.dir, train, eval: held, nc: w.nats.nc });
}

/** Every event on the job's stream, in order. */
async function streamed(job: string): Promise<ProgressEvent[]> {
  const got = await fetchEvents(w.nats.nc, job, `attempts-${++reads}`, { max: 1000 });
  return got.flatMap((d) => (d.ok ? [d.event] : []));
}

/** The attempt of the job's latest checkpoint, as its metadata records it. */
async function checkpointAttempt(job: string): Promise<unknown> {
  const store = await openArtifactStore(w.nats.nc, job);
  const latest = await store.latestCheckpoint();
  const meta = decodeParamSetWithMeta((await store.get(latest!.name))!).meta as { attempt?: unknown };
  return meta.attempt;
}

const finishedOf = (events: ProgressEvent[], attempt: string | undefined): RoundFinished[] =>
  events.filter((e): e is RoundFinished => e.type === "round.finished" && e.attempt === attempt);

test("a job run again from scratch within the duplicate window publishes every round of its new attempt", async () => {
  const name = `attempts-${process.pid}-fresh`;
  const first = await runJob(jobConfig({}, name));
  // output.resume false: the checkpoints go and the job trains from round 1 again, seconds later
  const second = await runJob(jobConfig({ output: { resume: false } }, name));
  assert.equal(second.resumedFrom, null);
  const config = jobConfig({}, name);
  const events = await streamed(config.names.job);
  const attempts = [...new Set(events.map((e) => e.attempt))];
  assert.equal(attempts.length, 2, `two attempts: ${attempts.join(", ")}`);
  assert.ok(attempts.every((a) => a !== undefined && a.length > 0));
  const [a1, a2] = attempts as [string, string];
  for (const [attempt, run] of [
    [a1, first],
    [a2, second],
  ] as const) {
    // every round of each attempt is on the stream, with that attempt's numbers
    assert.deepEqual(
      finishedOf(events, attempt).map((e) => [e.round, e.loss, e.bytes.up, e.bytes.down]),
      run.rounds.map((r) => [r.round, r.loss, r.bytes.up, r.bytes.down]),
    );
    const end = events.filter((e) => e.type === "job.finished" && e.attempt === attempt);
    assert.equal(end.length, 1, `job.finished of ${attempt}`);
  }
  // every event of the second run comes after the first run's: none of the first's trails it
  const lastOfFirst = events.findLastIndex((e) => e.attempt === a1);
  const firstOfSecond = events.findIndex((e) => e.attempt === a2);
  assert.ok(lastOfFirst < firstOfSecond);
  assert.equal(await checkpointAttempt(config.names.job), a2, "the checkpoints keep the new attempt");
});

test("a server resuming from a checkpoint goes on under the checkpoint's attempt", async () => {
  const name = `attempts-${process.pid}-resume`;
  await runJob(jobConfig({ training: { rounds: 1 } }, name));
  const before = await checkpointAttempt(jobConfig({}, name).names.job);
  assert.equal(typeof before, "string");
  const resumed = await runJob(jobConfig({ training: { rounds: 2 } }, name));
  assert.equal(resumed.resumedFrom, 1);
  const events = await streamed(jobConfig({}, name).names.job);
  assert.deepEqual([...new Set(events.map((e) => e.attempt))], [before], "one attempt over both servers");
  assert.deepEqual(
    finishedOf(events, before as string).map((e) => e.round),
    [1, 2],
  );
  assert.equal(await checkpointAttempt(jobConfig({}, name).names.job), before);
});

test("a client's job-end listener receives the job's end and none of its round or client-state events", async () => {
  const config = jobConfig({ training: { rounds: 1 } }, `attempts-${process.pid}-end`);
  // the listener on a connection of its own, so that what it received is the subscription's alone;
  // beside it a listener on every event of the job, for what went by
  const own = await w.nats.connect();
  const watch = new JobEndWatch(own, config.names.job, Date.now());
  const all = await w.nats.connect();
  const seen: string[] = [];
  const sub = all.subscribe(jobSubjects(config.names.job).allEvents, {
    callback: (_err, msg) => void seen.push(msg.subject),
  });
  try {
    await Promise.all([own.flush(), all.flush()]);
    await runJob(config);
    await Promise.all([own.flush(), all.flush()]);
    // an end of an attempt its server has not named yet waits for it (ADR 0041): a client learns
    // it from its poll replies
    assert.equal(watch.ended(), undefined);
    const attempt = (await streamed(config.names.job)).find((e) => e.type === "job.finished")?.attempt;
    watch.learnAttempt(attempt);
    const end = watch.ended();
    assert.equal(end?.kind, "finished");
    assert.ok(end.error instanceof JobFinishedError, String(end.error));
    assert.equal(end.error.source, "job-event", "learnt from the job.finished event");
    assert.ok(seen.filter((s) => s.endsWith(".round.finished")).length === 1, seen.join(" "));
    assert.ok(seen.filter((s) => s.endsWith(".client.state")).length >= 3, seen.join(" "));
    assert.equal(own.stats().inMsgs, 1, "the client's listener received job.finished only");
    assert.ok(own.stats().inBytes < all.stats().inBytes / 5, "and a small part of the job's event bytes");
  } finally {
    sub.unsubscribe();
    watch.close();
  }
});
