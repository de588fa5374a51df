// The server process's bytes and refusals are live, against a real nats-server: while its job is
// still running (the round open, no client done), /metrics already holds every byte its ledger
// counted (what this test, its only peer, sent and received, directions swapped) and each malformed
// frame's refusal the moment its error reply was sent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import {
  TrafficLedger,
  UnknownClientError,
  jobSubjects,
  parseChunk,
  requestFrame,
  type FrameInit,
} from "@sfprompt/protocol";
import { ENTRY, get, runConfig, spawnEntry, type Proc } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { ONCE_TIMEOUT_MS, requestOnceListened } from "../../shell/test/request-once.js";
import { badMessages, peerTotals, trafficSeries } from "../../shell/test/traffic-series.js";

const f = useProcessFixture();

test("the server's /metrics counts its bytes and refused frames while the job runs, not when it returns", async () => {
  const config = runConfig({}, "srv-live-traffic");
  const job = config.names.job;
  const proc = spawnEntry(ENTRY.server, f.entryArgs(config, "srv-live-traffic"));
  const nc = await connect({ servers: f.nats.url });
  // every message between this test and the server, as this side counted it
  const mine = new TrafficLedger();
  try {
    const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
    const subjects = jobSubjects(job);
    const scrape = async (): Promise<string> => (await get(port, "/metrics")).body;

    // a malformed frame on the body service, sent again while no service listens (a request no one
    // received is answered by NATS, not counted by the server, and not counted here either), never
    // after a timeout (the server would count it twice, this side once)
    const garbage = new Uint8Array([1, 2, 3]);
    const reply = await requestOnceListened(nc, subjects.bodyForward, garbage);
    mine.record({ client: "", round: 0, kind: "invalid", direction: "sent" }, garbage.length);
    const refusal = parseChunk(reply.data).header;
    const { client, round, kind } = refusal;
    mine.record({ client, round, kind, direction: "received" }, reply.data.length);
    assert.equal(refusal.type, "error");
    const code = String(refusal.meta.code);
    // counted the moment its error reply went out, not when the runtime returns
    const first = await scrape();
    assert.deepEqual(badMessages(first), { [code]: 1 });
    assertMirrors(first, mine, "after the malformed frame");

    // both clients poll (the round opens), client-0 reports a state and fetches the parameters
    const send = (subject: string, init: Omit<FrameInit, "job" | "step">, step: number): Promise<unknown> =>
      requestFrame(
        nc,
        subject,
        { ...init, job, step },
        { timeoutMs: ONCE_TIMEOUT_MS, retries: 0, ledger: mine },
      );
    await send(subjects.roundReport, poll("client-0"), 1);
    await send(subjects.roundReport, poll("client-1"), 2);
    const state = { op: "state", state: "local-update", round: 1 };
    await send(subjects.roundReport, { kind: "control", client: "client-0", round: 1, meta: state }, 3);
    await send(
      subjects.paramsGlobal,
      { kind: "control", client: "client-0", round: 1, meta: { round: 1 } },
      4,
    );
    // a client the job does not have: refused at once
    await assert.rejects(send(subjects.roundReport, poll("client-9"), 5), UnknownClientError);

    const body = await scrape();
    assertRunning(proc);
    assert.deepEqual(badMessages(body), { [code]: 1, "unknown-client": 1 });
    assertMirrors(body, mine, "mid-round");
    const bytes = trafficSeries(body, "sfprompt_process_bytes_total");
    assert.ok((bytes["parameters/sent"] ?? 0) > 0, "the global parameters sent are in the bytes");
  } finally {
    await nc.close();
    proc.kill("SIGKILL");
  }
});

/** The bytes and messages on /metrics are those this test's ledger counted, seen from the server. */
function assertMirrors(body: string, mine: TrafficLedger, when: string): void {
  const expected = peerTotals(mine);
  assert.deepEqual(trafficSeries(body, "sfprompt_process_bytes_total"), expected.bytes, `bytes ${when}`);
  assert.deepEqual(
    trafficSeries(body, "sfprompt_process_messages_total"),
    expected.messages,
    `messages ${when}`,
  );
}

/** The server's runtime has not returned: the job is still running. */
function assertRunning(proc: Proc): void {
  const ended = proc.logs.filter((l) =>
    ["server.done", "runtime.finished", "process.exit"].includes(l.event),
  );
  assert.deepEqual(ended, [], "the job is still running");
}

function poll(client: string): Omit<FrameInit, "job" | "step"> {
  return { kind: "control", client, round: 1, meta: { op: "poll", lastRound: 0 } };
}
