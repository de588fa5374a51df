// The advice the Failed condition gives after the server's job.failed: a new job named after this one
// only where this job checkpointed; otherwise the source it went on from, or a fresh start.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decideLifecycle } from "../../src/status/lifecycle.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { job, type SpecInput } from "../fixtures.js";

const NOW = new Date("2026-01-01T01:00:00.000Z");

function failedMessage(spec: SpecInput, reason: string, checkpointRound?: number): string {
  const progress: ProgressSnapshot = {
    ...emptySnapshot(),
    ...(checkpointRound === undefined
      ? {}
      : { round: checkpointRound, lastCheckpoint: { round: checkpointRound, object: "checkpoints/x" } }),
    outcome: { kind: "failed", reason, message: "what the server said" },
  };
  const j = job("demo", spec);
  const life = decideLifecycle({ job: j, previous: undefined, progress, plans: [], now: NOW });
  assert.equal(life.terminal?.phase, "Failed");
  return life.terminal.message;
}

const THIS_JOB = /spec\.output\.resumeFrom\.job naming this job to go on from its last checkpoint/;
const NONE =
  /reported no checkpoint \(status\.lastCheckpoint is unset\), so a new job naming it in spec\.output\.resumeFrom\.job would find none/;

const cases: {
  name: string;
  spec: SpecInput;
  reason: string;
  checkpoint?: number;
  says: RegExp[];
  not: RegExp[];
}[] = [
  {
    name: "a job that checkpointed: a new job can name this one in resumeFrom",
    spec: {},
    reason: "QuorumNotReached",
    checkpoint: 3,
    says: [THIS_JOB, /keep this job until the new one has checkpointed/],
    not: [NONE],
  },
  {
    name: "a job with resumeFrom that checkpointed itself: this one, not its source",
    spec: { output: { resumeFrom: { job: "older" } } },
    reason: "QuorumNotReached",
    checkpoint: 4,
    says: [THIS_JOB],
    not: [NONE, /older/],
  },
  {
    name: "a job that never checkpointed: not this one, which has nothing to go on from",
    spec: {},
    reason: "JobInputError",
    says: [NONE, /create a new job with the fix/],
    not: [THIS_JOB, /instead/],
  },
  {
    name: "a job with resumeFrom that failed before its first checkpoint: its source again",
    spec: { output: { resumeFrom: { job: "older", bucket: "shared-ckpts" } } },
    reason: "QuorumNotReached",
    says: [
      NONE,
      /name job older there instead \(with spec\.output\.resumeFrom\.bucket shared-ckpts\), as this job did/,
      /keep older until the new job has checkpointed/,
    ],
    not: [THIS_JOB],
  },
  {
    name: "a job whose resumeFrom source has no checkpoint (ResumeSourceError): neither this job nor the source",
    spec: { output: { resumeFrom: { job: "older" } } },
    reason: "ResumeSourceError",
    says: [NONE],
    not: [THIS_JOB, /name job older/],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const message = failedMessage(c.spec, c.reason, c.checkpoint);
    assert.ok(
      message.startsWith("what the server said. This job stays Failed and ignores spec edits"),
      message,
    );
    for (const r of c.says) assert.match(message, r);
    for (const r of c.not) assert.doesNotMatch(message, r);
  });
}
