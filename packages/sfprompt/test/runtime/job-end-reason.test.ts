// What a client's work stops with when its job ends without it (JobEndWatch, ADR 0041 amendment 13),
// against a real nats-server: the job.finished event, the round state's finished phase and a lingering
// server's `done` reply each abort the client's signal with a JobFinishedError that names how the
// client learned it and has what told it as its cause; the first end known stays the one it stops with.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { JobFailedError, JobFinishedError } from "@sfprompt/core";
import {
  EVENT_VERSION,
  eventSubject,
  openRoundState,
  type ProgressEvent,
  type RoundState,
} from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { JobEndWatch } from "../../src/client/job-end.js";

let nats: TestNats;
let nc: NatsConnection;

before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
});
after(async () => {
  await nc.close();
  await nats.stop();
});

/** The watch's signal once aborted (at most 5 s). */
async function aborted(watch: JobEndWatch): Promise<unknown> {
  if (!watch.signal.aborted)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the watch's signal was not aborted in 5 s")), 5000);
      watch.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  return watch.signal.reason;
}

/** Checks `reason` is the finish `source` told, with `cause` as its cause, and is the watch's end. */
function checkFinished(watch: JobEndWatch, reason: unknown, source: string, cause: unknown): void {
  assert.ok(reason instanceof JobFinishedError, `the signal's reason is ${String(reason)}`);
  assert.equal(reason.source, source);
  assert.equal(reason.job, watch.job);
  assert.deepEqual(reason.cause, cause);
  assert.match(reason.message, new RegExp(`^job ${watch.job} finished \\(told by `));
  assert.equal(watch.ended()?.error, reason, "the end the client reads is the signal's reason");
}

test("the job.finished event stops the client's work with a JobFinishedError caused by the event", async () => {
  const job = "reason-event";
  const watch = new JobEndWatch(nc, job, Date.now());
  try {
    await nc.flush();
    const event: ProgressEvent = {
      v: EVENT_VERSION,
      job,
      at: new Date().toISOString(),
      type: "job.finished",
      rounds: 2,
      loss: 0.5,
      accuracy: 0.75,
      bytes: { up: 10, down: 20, byKind: {} },
    };
    // as the server's publish reaches a plain subscriber of the job-end subject (no stream needed)
    nc.publish(eventSubject(job, "job.finished"), JSON.stringify(event));
    checkFinished(watch, await aborted(watch), "job-event", event);
  } finally {
    watch.close();
  }
});

test("the round state's finished phase stops the client's work with a JobFinishedError caused by the state", async () => {
  const job = "reason-state";
  const watch = new JobEndWatch(nc, job, Date.now() - 1000);
  try {
    const state: RoundState = {
      v: 1,
      round: 3,
      phase: "finished",
      selected: [],
      reported: [],
      startedAt: new Date().toISOString(),
    };
    await (await openRoundState(nc, job)).put(state, 0);
    await watch.checkStore();
    checkFinished(watch, await aborted(watch), "round-state", state);
  } finally {
    watch.close();
  }
});

test("a lingering server's done reply stops the client's work with a JobFinishedError caused by the reply", async () => {
  const watch = new JobEndWatch(nc, "reason-reply", Date.now());
  try {
    const reply = { action: "done", attempt: "a1" };
    const error = watch.serverDone("a1", reply);
    checkFinished(watch, await aborted(watch), "server-reply", reply);
    assert.equal(error, watch.signal.reason, "serverDone returns what the round is stopped with");
  } finally {
    watch.close();
  }
});

test("a done reply after the job's failure was heard returns that failure: the first end stays", async () => {
  const watch = new JobEndWatch(nc, "reason-first", Date.now());
  try {
    const failed = watch.serverFailed("JobStoreError", "the store is gone", undefined);
    const error = watch.serverDone(undefined, { action: "done" });
    assert.ok(error instanceof JobFailedError, `returned ${String(error)}`);
    assert.equal(error, failed);
    assert.equal(watch.signal.reason, failed);
  } finally {
    watch.close();
  }
});
