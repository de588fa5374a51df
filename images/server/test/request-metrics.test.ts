// The server process's request histogram against a real nats-server: requests sent from here through
// the real requester reach the server's real control and body services, and /metrics then counts each
// one under its operation and outcome (handling time), error replies included.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import {
  UnknownClientError,
  jobSubjects,
  parseChunk,
  requestFrame,
  type FrameInit,
} from "@sfprompt/protocol";
import { ENTRY, get, runConfig, spawnEntry } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestCounts, requestSeries } from "../../shell/test/request-histogram.js";
import { ONCE_TIMEOUT_MS, requestOnceListened } from "../../shell/test/request-once.js";

const f = useProcessFixture();

test("the server's /metrics counts every request it answered by operation and outcome, error replies included", async () => {
  const config = runConfig({}, "srv-requests");
  const job = config.names.job;
  const proc = spawnEntry(ENTRY.server, f.entryArgs(config, "srv-requests"));
  const nc = await connect({ servers: f.nats.url });
  try {
    const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
    const subjects = jobSubjects(job);
    // a malformed frame on the body service: an error reply (the services subscribe after readiness,
    // so this is sent again while no service listens, never after a timeout: the count is exact)
    const garbage = await requestOnceListened(nc, subjects.bodyForward, new Uint8Array([1, 2, 3]));
    assert.equal(parseChunk(garbage.data).header.type, "error");

    const send = (subject: string, init: Omit<FrameInit, "job" | "step">, step: number): Promise<unknown> =>
      // no retries (the control services listen once the body service does): each counted once
      requestFrame(nc, subject, { ...init, job, step }, { timeoutMs: ONCE_TIMEOUT_MS, retries: 0 });
    // a poll of each client: both answered (with the first round's work, or "wait")
    await send(subjects.roundReport, poll("client-0"), 1);
    await send(subjects.roundReport, poll("client-1"), 2);
    // a state report and a params fetch outside any round: both answered
    const state = { op: "state", state: "local-update", round: 1 };
    await send(subjects.roundReport, { kind: "control", client: "client-0", round: 1, meta: state }, 3);
    await send(
      subjects.paramsGlobal,
      { kind: "control", client: "client-0", round: 1, meta: { round: 1 } },
      4,
    );
    // a poll of a client the job does not have: an error reply, no retry
    await assert.rejects(send(subjects.roundReport, poll("client-9"), 5), UnknownClientError);

    const body = (await get(port, "/metrics")).body;
    assert.deepEqual(requestCounts(body), {
      "body-forward/error": 1,
      "poll/ok": 2,
      "report/ok": 1,
      "params-global/ok": 1,
      "poll/error": 1,
    });
    for (const [key, s] of requestSeries(body)) {
      assert.equal(s.inf, s.count, `${key}: the +Inf bucket holds every request`);
      assert.ok(s.sum > 0 && s.sum < 60, `${key}: a sum of seconds (${s.sum})`);
    }
  } finally {
    await nc.close();
    proc.kill("SIGKILL");
  }
});

function poll(client: string): Omit<FrameInit, "job" | "step"> {
  return { kind: "control", client, round: 1, meta: { op: "poll", lastRound: 0 } };
}
