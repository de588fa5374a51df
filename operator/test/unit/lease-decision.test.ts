import { test } from "node:test";
import assert from "node:assert/strict";
import { decide, observe, type LeaseRecord } from "../../src/leader/lease-decision.js";

const held = (holder: string, renewTime = "t1"): LeaseRecord => ({ holder, renewTime, durationMs: 10_000 });

const cases: {
  name: string;
  record: LeaseRecord;
  observedAt: number;
  now: number;
  want: ReturnType<typeof decide>;
}[] = [
  { name: "our own lease is renewed", record: held("me"), observedAt: 0, now: 0, want: { action: "renew" } },
  {
    name: "a released lease (no holder) is taken at once",
    record: held(""),
    observedAt: 0,
    now: 0,
    want: { action: "take" },
  },
  {
    name: "another holder's fresh lease is waited out",
    record: held("other"),
    observedAt: 1000,
    now: 4000,
    want: { action: "wait", retryInMs: 7000 },
  },
  {
    name: "another holder's lease unchanged for its duration is taken",
    record: held("other"),
    observedAt: 1000,
    now: 11_000,
    want: { action: "take" },
  },
];

for (const c of cases) {
  test(`lease: ${c.name}`, () => {
    assert.deepEqual(decide({ record: c.record, observedAt: c.observedAt }, "me", c.now), c.want);
  });
}

test("the expiry clock restarts whenever the holder renews, and not otherwise", () => {
  const first = observe(undefined, held("other", "t1"), 1000);
  assert.equal(observe(first, held("other", "t1"), 5000).observedAt, 1000);
  assert.equal(observe(first, held("other", "t2"), 5000).observedAt, 5000);
});
