// requestFrame and the signal it is given, against a real nats-server: an abort that comes just as
// the requester starts to wait ends the request at once, and requests that retried leave no listener
// on a signal that outlives them (a client's, its job's end).
import assert from "node:assert/strict";
import { test } from "node:test";
import { getEventListeners } from "node:events";
import { NoRespondersError, requestFrame, TrafficLedger, type FrameInit } from "@sfprompt/protocol";
import { baseFrame } from "./builders.js";
import { useNats } from "./nats-hooks.js";

const nats = useNats();

const control = (step: number): FrameInit => ({ ...baseFrame, kind: "control", round: 1, step, meta: {} });

test("a signal aborted while the request is sent ends it at once, not after the reply's timeout", async () => {
  // a service that takes requests and never answers: only the timeout or the abort ends the wait
  const silent = nats.nc.subscribe("sfp.abort.silent");
  await nats.nc.flush();
  const ac = new AbortController();
  // the abort lands after the requester checked the signal and before it waits for the reply, as a
  // job.finished read from the same socket data as the request's last ack does
  const ledger = new TrafficLedger((key) => {
    if (key.direction === "sent") ac.abort(new Error("the job ended"));
  });
  // A missed abort would wait out the reply's timeout, then end with the same abort at the retry's
  // signal check: what tells them apart is that timed-out attempt, reported to onRetry before the
  // retry (no stopwatch: a 1 s bound on a 3 s timeout is a race on a loaded machine).
  const retried: string[] = [];
  try {
    const outcome = await requestFrame(nats.nc, "sfp.abort.silent", control(1), {
      ledger,
      signal: ac.signal,
      timeoutMs: 3_000,
      retries: 1,
      onRetry: (r) => retried.push(r.error.code),
    }).then(
      () => "answered",
      (error: unknown) => error,
    );
    assert.ok(outcome instanceof Error && outcome.message === "the job ended", String(outcome));
    assert.deepEqual(retried, [], "no attempt waited out the reply's timeout");
  } finally {
    silent.unsubscribe();
  }
});

test("requests that retried leave no abort listener on the signal they were given", async () => {
  const signal = new AbortController().signal;
  const requests = 20;
  for (let step = 0; step < requests; step++) {
    // nobody listens: each attempt is answered no-responders at once and retried after a backoff
    await assert.rejects(
      requestFrame(nats.nc, "sfp.abort.nobody", control(step), { signal, retries: 2, backoffMs: 1 }),
      NoRespondersError,
    );
  }
  assert.equal(getEventListeners(signal, "abort").length, 0, "listeners left on the signal");
});
