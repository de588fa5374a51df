// The line a stopped `sfprompt run` ends with, for each thing the job's store can say about its
// newest checkpoint (the real CLI's lines are checked against the next run in run-stop-message).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keptLine, type KeptOf, type Newest } from "../src/run/kept-on-stop.js";

const job: KeptOf = { label: "tiny", rounds: 5, resumeFrom: false };

const cases: Array<{ name: string; kept: KeptOf; newest: Newest; line: RegExp }> = [
  {
    name: "a checkpoint before the last round: the next run goes on from the round after it",
    kept: job,
    newest: { round: 3 },
    line: /keeps the checkpoint of round 3 of 5: run the same command to go on from round 4$/,
  },
  {
    name: "the last round's checkpoint: the next run only writes the results",
    kept: job,
    newest: { round: 5 },
    line: /keeps the checkpoint of its last round \(5 of 5\): run the same command to write its results$/,
  },
  {
    name: "no checkpoint: the next run starts at round 1",
    kept: job,
    newest: null,
    line: /stopped before its first checkpoint: .*the same command starts at round 1$/,
  },
  {
    name: "no checkpoint of a job with resumeFrom: the next run goes on from the source's again",
    kept: { ...job, resumeFrom: true },
    newest: null,
    line: /the same command goes on from spec\.output\.resumeFrom's checkpoint again$/,
  },
  {
    name: "a store that did not answer: says it cannot tell, and why",
    kept: job,
    newest: { unknown: "NATS did not answer within 3 s" },
    line: /cannot be told \(NATS did not answer within 3 s\); the next run says what it goes on from$/,
  },
];

describe("keptLine", () => {
  for (const c of cases) it(c.name, () => assert.match(keptLine(c.kept, c.newest), c.line));
});
