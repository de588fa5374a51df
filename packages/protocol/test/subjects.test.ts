import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  artifactBucketName,
  bodyQueueGroup,
  directSubject,
  eventStreamName,
  eventSubject,
  InvalidNameError,
  isTokenSafe,
  jobSubjects,
  stateBucketName,
} from "@sfprompt/protocol";

describe("subjects of a job", () => {
  it("puts every subject of a job under sfp.<job>, one token per level", () => {
    const s = jobSubjects("mnist-demo_2");
    const all = [
      s.bodyForward,
      s.bodyBackward,
      s.roundAnnounce,
      s.roundReport,
      s.paramsGlobal,
      s.paramsUpload,
      eventSubject("mnist-demo_2", "round.finished"),
      eventSubject("mnist-demo_2", "job.failed"),
    ];
    assert.equal(new Set(all).size, all.length);
    for (const subject of all) {
      assert.ok(subject.startsWith("sfp.mnist-demo_2."), subject);
      assert.ok(
        subject.split(".").every((t) => isTokenSafe(t)),
        subject,
      );
    }
    assert.equal(s.bodyForward, "sfp.mnist-demo_2.body.fwd");
    assert.equal(s.bodyBackward, "sfp.mnist-demo_2.body.bwd");
    // each event type on a subject of its own, so that a listener can take the job's end only
    assert.equal(eventSubject("mnist-demo_2", "round.finished"), "sfp.mnist-demo_2.events.round.finished");
    assert.equal(s.allEvents, "sfp.mnist-demo_2.events.>");
    assert.equal(s.jobEnd, "sfp.mnist-demo_2.events.job.*");
    assert.equal(s.all, "sfp.mnist-demo_2.>");
    assert.equal(directSubject(s.bodyForward, "abc"), "sfp.mnist-demo_2.body.fwd.direct.abc");
  });

  it("names the queue group, stream and buckets after the job", () => {
    assert.deepEqual(
      [bodyQueueGroup("j1"), eventStreamName("j1"), artifactBucketName("j1"), stateBucketName("j1")],
      ["sfp-j1-body", "sfp-j1-events", "sfp-j1-artifacts", "sfp-j1-state"],
    );
  });

  const bad = [
    { name: "a dot, which would split the subject", job: "my.job" },
    { name: "a wildcard", job: "job*" },
    { name: "a full wildcard", job: ">" },
    { name: "a space", job: "my job" },
    { name: "an empty name", job: "" },
    { name: "a name longer than 64 characters", job: "j".repeat(65) },
  ];
  for (const c of bad) {
    it(`refuses a job name with ${c.name}, saying what is allowed`, () => {
      assert.throws(
        () => jobSubjects(c.job),
        (e: unknown) => e instanceof InvalidNameError && /letters, digits, '-' or '_'/.test(e.message),
      );
    });
  }
});
