// A client's samples and kept after a lost event stream: the written entry's, while it still speaks of
// the rounds as they stand; the stream's own as soon as it gives them (ADR 0023, amendment 16).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClientStatus } from "@sfprompt/api";
import { withWrittenCounts } from "../../src/status/client-counts.js";
import { emptySnapshot, type ClientProgress, type ProgressSnapshot } from "../../src/progress/snapshot.js";

const written: ClientStatus = { index: 0, phase: "Running", samples: 40, kept: 27, lastRound: 3 };
const followed = emptySnapshot();
const startedOver: ProgressSnapshot = { ...followed, attempts: { current: "b", earlier: ["a"] } };

const cases: {
  name: string;
  p: ClientProgress | undefined;
  last: ClientStatus | undefined;
  progress?: ProgressSnapshot;
  counts: [number | undefined, number | undefined];
}[] = [
  {
    name: "a lost stream whose history gives the same last round: the written counts",
    p: { lastRound: 3 },
    last: written,
    counts: [40, 27],
  },
  {
    name: "its next round under way (a later last round, not finished): still the written counts",
    p: { lastRound: 4, state: "split-training" },
    last: written,
    counts: [40, 27],
  },
  {
    name: "the stream gave the client's counts: the stream's",
    p: { lastRound: 4, samples: 40, kept: 20 },
    last: written,
    counts: [40, 20],
  },
  {
    name: "a resume from an older checkpoint (an earlier last round): none",
    p: { lastRound: 2 },
    last: written,
    counts: [undefined, undefined],
  },
  {
    name: "no last round in the stream yet: none",
    p: { state: "connected" },
    last: written,
    counts: [undefined, undefined],
  },
  {
    name: "the stream shows the run started over: none, the entry may be the replaced attempt's",
    p: { lastRound: 3 },
    last: written,
    progress: startedOver,
    counts: [undefined, undefined],
  },
  {
    name: "no written counts: none",
    p: { lastRound: 3 },
    last: { index: 0, phase: "Running", lastRound: 3 },
    counts: [undefined, undefined],
  },
];

for (const c of cases) {
  test(`withWrittenCounts: ${c.name}`, () => {
    const got = withWrittenCounts(c.p, c.last, c.progress ?? followed);
    assert.deepEqual([got?.samples, got?.kept], c.counts);
    assert.equal(got?.lastRound, c.p?.lastRound, "the last round is the stream's");
  });
}
