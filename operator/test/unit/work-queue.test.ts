import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay } from "../../src/queue/backoff.js";
import { TokenBucket } from "../../src/queue/token-bucket.js";
import { WorkQueue } from "../../src/queue/work-queue.js";

const policy = { baseMs: 100, maxMs: 1000 };

test("backoff doubles from the base delay and stops at the cap", () => {
  const cases: [failures: number, delay: number][] = [
    [0, 0],
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1000],
    [500, 1000],
  ];
  for (const [failures, delay] of cases)
    assert.equal(backoffDelay(policy, failures), delay, `failures ${failures}`);
});

test("the token bucket lets a burst through, then spaces requests at qps", () => {
  let now = 0;
  const bucket = new TokenBucket({ qps: 10, burst: 2, now: () => now });
  assert.deepEqual([bucket.reserve(), bucket.reserve()], [0, 0]);
  assert.equal(bucket.reserve(), 100); // one token short at 10 per second
  assert.equal(bucket.reserve(), 200);
  now = 1000; // a second later the debt is paid and the bucket is full again
  assert.equal(bucket.reserve(), 0);
});

test("a key added many times is handed out once", async () => {
  const q = new WorkQueue({ backoff: policy });
  for (const k of ["a", "b", "a", "a", "b"]) q.add(k);
  assert.equal(q.length, 2);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(q.length, 0);
});

test("a key added while being processed is handed out again after done, not concurrently", async () => {
  const q = new WorkQueue({ backoff: policy });
  q.add("a");
  const first = await q.get();
  q.add("a");
  q.add("a");
  assert.equal(q.length, 0, "not queued while in progress");
  q.done(first!);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), "a");
});

test("a waiting get receives the next added key", async () => {
  const q = new WorkQueue({ backoff: policy });
  const pending = q.get();
  q.add("x");
  assert.equal(await pending, "x");
});

test("of two delayed adds of a key the earlier one wins and the key arrives once", async () => {
  const q = new WorkQueue({ backoff: policy });
  q.addAfter("a", 200);
  q.addAfter("a", 20);
  q.addAfter("a", 400);
  assert.equal(q.delayed, 1);
  // Timers fire in order of when they are due however late the loop runs: a key that comes before
  // this 150 ms timer came with the 20 ms add (a stopwatch bound of < 190 ms failed under load).
  let sentinelFired = false;
  const sentinel = setTimeout(() => (sentinelFired = true), 150);
  const t0 = Date.now();
  assert.equal(await q.get(), "a");
  const waited = Date.now() - t0;
  clearTimeout(sentinel);
  assert.equal(sentinelFired, false, "the key came after the 200 ms or 400 ms add, not the 20 ms one");
  assert.ok(waited >= 15, `waited only ${waited} ms`);
  assert.equal(q.delayed, 0);
  q.shutDown();
});

test("rate-limited adds back off per key and forget starts over", () => {
  const q = new WorkQueue({ backoff: policy, qps: 1000, burst: 1000 });
  assert.deepEqual([q.addRateLimited("a"), q.addRateLimited("a"), q.addRateLimited("a")], [100, 200, 400]);
  assert.equal(q.addRateLimited("b"), 100, "another key has its own count");
  q.forget("a");
  assert.equal(q.failuresOf("a"), 0);
  assert.equal(q.addRateLimited("a"), 100);
  q.shutDown();
});

test("shutDown drops queued keys, ends waiting gets, and drained waits for keys in progress", async () => {
  const q = new WorkQueue({ backoff: policy });
  q.add("busy");
  q.add("queued");
  const key = await q.get();
  q.addAfter("delayed", 50);
  q.shutDown();
  q.add("ignored");
  assert.equal(await q.get(), undefined, "queued and later keys are not handed out");
  assert.equal(q.delayed, 0);
  let drained = false;
  const d = q.drained().then(() => (drained = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(drained, false, "still processing");
  q.done(key!);
  await d;
  assert.equal(drained, true);
});

test("a get waiting when the queue shuts down resolves undefined", async () => {
  const q = new WorkQueue({ backoff: policy });
  const waiter = q.get();
  q.shutDown();
  assert.equal(await waiter, undefined);
});
