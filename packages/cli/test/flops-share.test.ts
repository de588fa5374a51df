// The client FLOPs share of a job that went on from another job's checkpoint (spec.output.resumeFrom)
// averages over the rounds it trained itself: the source's rounds, in the history it inherited, did
// other clients' work.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { RoundMetrics } from "@sfprompt/core";
import { clientFlopsShare } from "../src/run/flops-share.js";
import { readJobFile, runConfigFor } from "../src/run/job-file.js";
import { writeTinyJob } from "./run-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cli-flops-share-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A finished round of two clients that each did `clientFlops` on 10 samples. */
function round(n: number, clientFlops: number): RoundMetrics {
  return {
    round: n,
    loss: 1,
    accuracy: 0.5,
    evalLoss: 1,
    participants: ["client-0", "client-1"],
    selected: ["client-0", "client-1"],
    samples: 20,
    kept: 20,
    bytes: { up: 1, down: 1, byKind: {} },
    clientFlops,
    durationMs: 1,
  };
}

describe("clientFlopsShare", () => {
  const job = readJobFile(writeTinyJob(dir));
  const config = runConfigFor(job, job.spec.method);
  const wholeForward = 1000;
  // rounds 1-2 another job's (its clients did twice the work), round 3 this job's own
  const history = [round(1, 40_000), round(2, 40_000), round(3, 20_000)];

  it("leaves out the rounds up to the inherited one", () => {
    const own = clientFlopsShare(config, wholeForward, history, { round: 2 });
    assert.ok(own !== undefined && own > 0, `share ${own}`);
    assert.equal(own, clientFlopsShare(config, wholeForward, [history[2]!]));
    const all = clientFlopsShare(config, wholeForward, history);
    assert.ok(
      all !== undefined && all > own,
      `all rounds ${all} include the source's heavier rounds, own ${own}`,
    );
  });

  it("is undefined when every round is the source's", () => {
    assert.equal(clientFlopsShare(config, wholeForward, history.slice(0, 2), { round: 2 }), undefined);
  });
});
