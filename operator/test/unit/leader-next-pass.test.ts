// What comes after a pass of the leader label: which watch events call for one, and how long until the
// next (a pod that changed under a pass is looked at again after the short retry, not the resync).
import { test } from "node:test";
import assert from "node:assert/strict";
import { callsForPass } from "../../src/leader/leader-label-watch.js";
import { nextPassMs, type PassOutcome } from "../../src/leader/leader-pod-label.js";

const timing = { retryMs: 2000, resyncMs: 300_000 };
const waits: { name: string; outcome: PassOutcome; timing: typeof timing; want: number }[] = [
  { name: "a settled pass waits for the resync", outcome: "settled", timing, want: 300_000 },
  {
    name: "a pod changed under the pass: the next one after the retry delay",
    outcome: "changed",
    timing,
    want: 2000,
  },
  {
    name: "a resync shorter than the retry delay is not lengthened by a change",
    outcome: "changed",
    timing: { retryMs: 2000, resyncMs: 1000 },
    want: 1000,
  },
];
for (const c of waits) {
  test(`next pass: ${c.name}`, () => {
    assert.equal(nextPassMs(c.outcome, c.timing), c.want);
  });
}

const events: { name: string; phase: string; pod: string; want: boolean }[] = [
  { name: "another pod gains the label", phase: "ADDED", pod: "op-1", want: true },
  { name: "another labelled pod changes", phase: "MODIFIED", pod: "op-1", want: true },
  { name: "another pod loses the label (a pass cleared it)", phase: "DELETED", pod: "op-1", want: false },
  { name: "this pod loses the label (someone removed it)", phase: "DELETED", pod: "op-0", want: true },
  { name: "this pod gains the label (a pass set it)", phase: "ADDED", pod: "op-0", want: false },
  { name: "this labelled pod changes", phase: "MODIFIED", pod: "op-0", want: false },
  { name: "a bookmark", phase: "BOOKMARK", pod: "op-1", want: false },
];
for (const c of events) {
  test(`watch event: ${c.name} ${c.want ? "calls" : "does not call"} for a pass`, () => {
    assert.equal(callsForPass(c.phase, c.pod, "op-0"), c.want);
  });
}
