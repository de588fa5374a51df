// A server lingering after its job ended refuses what its running services refused (ADR 0041,
// amendment of 2026-11-28): against a real nats-server and a real server process, a poll from a client
// the job does not have gets the unknown-client error reply and a poll of another job the unknown-job
// one, each moving sfprompt_bad_messages_total{code} by one as during the run, while the job's own
// clients go on being answered with the end.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  UnknownClientError,
  UnknownJobError,
  jobSubjects,
  requestFrame,
  type DecodedFrame,
  type FrameInit,
} from "@sfprompt/protocol";
import { get } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { ONCE_TIMEOUT_MS } from "../../shell/test/request-once.js";
import { badMessages } from "../../shell/test/traffic-series.js";
import { delta, finishedJob, lingeringPort } from "./lingering-job.js";

const f = useProcessFixture();

interface Sender {
  readonly name: string;
  readonly client: string;
  /** The job the poll names; undefined: the lingering server's own. */
  readonly job?: string;
  /** The error the poll is refused with; undefined: answered with the end. */
  readonly refused?: typeof UnknownClientError | typeof UnknownJobError;
  /** sfprompt_bad_messages_total{code} moved by the poll. */
  readonly counted: Record<string, number>;
}

const SENDERS: readonly Sender[] = [
  { name: "a client of the job is told it is done", client: "client-0", counted: {} },
  {
    name: "a client the job does not have is refused with unknown-client",
    client: "client-2",
    refused: UnknownClientError,
    counted: { "unknown-client": 1 },
  },
  {
    name: "a poll naming another job is refused with unknown-job",
    client: "client-1",
    job: "some-other-job",
    refused: UnknownJobError,
    counted: { "unknown-job": 1 },
  },
  { name: "the job's other client is still told it is done", client: "client-1", counted: {} },
];

test("after its job finished, the lingering server refuses unknown clients and jobs as the running job did, and tells its own clients done", async () => {
  const { proc, job } = await finishedJob(f, "linger-unknown-sender");
  const nc = await connect({ servers: f.nats.url });
  try {
    const port = await lingeringPort(proc);
    const scrape = async (): Promise<Record<string, number>> =>
      badMessages((await get(port, "/metrics")).body);
    let step = 10;
    for (const s of SENDERS) {
      const before = await scrape();
      const reply = poll(nc, job, s, step++);
      if (s.refused === undefined) assert.equal((await reply).header.meta.action, "done", s.name);
      else {
        const refused = s.refused;
        // the server's error reply, by its code: not a timeout or an error of this side
        const fromServer = (e: unknown): boolean => e instanceof refused && e.remote;
        await assert.rejects(reply, fromServer, s.name);
      }
      assert.deepEqual(delta(before, await scrape()), s.counted, `${s.name}: bad messages moved`);
    }
    assert.equal(proc.child.exitCode, null, "the server still lingers");
  } finally {
    await nc.close();
    proc.kill("SIGKILL");
  }
});

/** As a client polls after round 1: round.report of round 2, on the lingering job's subject. */
function poll(nc: NatsConnection, job: string, s: Sender, step: number): Promise<DecodedFrame> {
  const init: FrameInit = {
    kind: "control",
    job: s.job ?? job,
    client: s.client,
    round: 2,
    step,
    meta: { op: "poll", lastRound: 1 },
  };
  // no retries: each poll reaches the server once and is counted once
  return requestFrame(nc, jobSubjects(job).roundReport, init, { timeoutMs: ONCE_TIMEOUT_MS, retries: 0 });
}
