// `sfprompt run` when the nats-server it starts fails (a run directory whose logs/nats.log is a
// folder, or whose nats/jetstream is a file): the failure nats-server reported is told once, with
// none of an earlier session's log lines. It was printed twice (from stderr and again with the log).
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

/** How many times `text` holds `part`. */
function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe("sfprompt run when its nats-server does not start", () => {
  let dir = "";
  let job = "";
  let earlier = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-nats-fails-"));
    job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
    // a finished session: the next one (--rounds 2) starts nats-server on its store and log again
    earlier = join(dir, "earlier");
    const first = sfprompt("run", job, "--out", earlier);
    assert.equal(first.code, 0, first.stderr);
  });

  /** A copy of the earlier session's run directory, for a session that goes on from it. */
  function copyOfEarlier(name: string): string {
    const out = join(dir, name);
    cpSync(earlier, out, { recursive: true });
    return out;
  }
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("says once what nats-server wrote on stderr (its log file cannot be opened)", () => {
    const out = copyOfEarlier("log-folder");
    rmSync(join(out, "logs", "nats.log"));
    mkdirSync(join(out, "logs", "nats.log"));
    const r = sfprompt("run", job, "--out", out, "--rounds", "2");
    assertUserError(
      r,
      /^sfprompt run: nats-server \(\S+\) did not start: it exited with code 1; its log: \S+nats\.log$/m,
    );
    assert.match(r.stderr, /error opening file: open \S+nats\.log: is a directory/);
    assert.equal(count(r.stderr, "error opening file"), 1, r.stderr);
  });

  it("says once the failure its log holds, without the earlier session's lines", () => {
    const out = copyOfEarlier("store-file");
    rmSync(join(out, "nats", "jetstream"), { recursive: true });
    writeFileSync(join(out, "nats", "jetstream"), "not a folder\n");
    const r = sfprompt("run", job, "--out", out, "--rounds", "2");
    assertUserError(
      r,
      /^sfprompt run: nats-server \(\S+\) did not start: it exited with code 1; its log: \S+nats\.log$/m,
    );
    assert.match(r.stderr, /\[FTL\] Can't start JetStream: storage directory is not a directory$/m);
    assert.equal(count(r.stderr, "Can't start JetStream"), 1, r.stderr);
    assert.doesNotMatch(r.stderr, /Server is ready/, "the earlier session's start is not this one's");
  });
});
