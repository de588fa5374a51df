// A server lingering after its job ended answers the job's params.global and params.upload requests as
// its running services answer them once no round is open (ADR 0041, amendment 6): against a real
// nats-server and a real server process after a one-round job, a client of the job asking for a
// round's global parameters is told the round is closed and its upload is not accepted (job-ended),
// promptly instead of NATS's no-responders, unless it is a participant's repeat of a round the run
// aggregated (accepted, duplicate: ADR 0041 amendment 9); a client the job does not have is refused with
// unknown-client, and a request naming another job with unknown-job (amendment 5's sender check).
// Each request moves sfprompt_request_duration_seconds{op,outcome} by one, and each refusal
// sfprompt_bad_messages_total{code}, as during the run.
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
import { requestCounts } from "../../shell/test/request-histogram.js";
import { ONCE_TIMEOUT_MS } from "../../shell/test/request-once.js";
import { badMessages } from "../../shell/test/traffic-series.js";
import { delta, finishedJob, lingeringPort } from "./lingering-job.js";

const f = useProcessFixture();

type Subject = "paramsGlobal" | "paramsUpload";

interface Ask {
  readonly name: string;
  readonly subject: Subject;
  readonly client: string;
  /** The round asked about (default 1, the round the job ran). */
  readonly round?: number;
  /** The job the frame names; undefined: the lingering server's own (its subjects are used either way). */
  readonly job?: string;
  /** The reply's meta; undefined: refused with `refused`. */
  readonly reply?: Record<string, unknown>;
  /** The error reply the request gets when it has no `reply`. */
  readonly refused?: typeof UnknownClientError | typeof UnknownJobError;
  /** sfprompt_request_duration_seconds{op/outcome} moved. */
  readonly requests: Record<string, number>;
  /** sfprompt_bad_messages_total{code} moved. */
  readonly bad: Record<string, number>;
}

const ASKS: readonly Ask[] = [
  {
    name: "a client of the job asking for round 1's global parameters is told the round is closed",
    subject: "paramsGlobal",
    client: "client-0",
    reply: { round: 1, status: "closed" },
    requests: { "params-global/ok": 1 },
    bad: {},
  },
  {
    name: "a client of the job uploading round 2, which the job did not run, is not accepted: the job ended",
    subject: "paramsUpload",
    client: "client-1",
    round: 2,
    reply: { accepted: false, reason: "job-ended" },
    requests: { "params-upload/ok": 1 },
    bad: {},
  },
  {
    name: "a participant of round 1 uploading it again (its reply lost) is told its update is in (duplicate)",
    subject: "paramsUpload",
    client: "client-1",
    reply: { accepted: true, reason: "duplicate" },
    requests: { "params-upload/ok": 1 },
    bad: {},
  },
  {
    name: "a client the job does not have asking for the global parameters is refused with unknown-client",
    subject: "paramsGlobal",
    client: "client-2",
    refused: UnknownClientError,
    requests: { "params-global/error": 1 },
    bad: { "unknown-client": 1 },
  },
  {
    name: "a client the job does not have uploading is refused with unknown-client",
    subject: "paramsUpload",
    client: "client-2",
    refused: UnknownClientError,
    requests: { "params-upload/error": 1 },
    bad: { "unknown-client": 1 },
  },
  {
    name: "a request for the global parameters naming another job is refused with unknown-job",
    subject: "paramsGlobal",
    client: "client-0",
    job: "some-other-job",
    refused: UnknownJobError,
    requests: { "params-global/error": 1 },
    bad: { "unknown-job": 1 },
  },
  {
    name: "an upload naming another job is refused with unknown-job",
    subject: "paramsUpload",
    client: "client-1",
    job: "some-other-job",
    refused: UnknownJobError,
    requests: { "params-upload/error": 1 },
    bad: { "unknown-job": 1 },
  },
];

test("after its job finished, the lingering server answers params.global and params.upload promptly, refusing unknown clients and other jobs, each counted once", async () => {
  const { proc, job } = await finishedJob(f, "linger-params");
  const nc = await connect({ servers: f.nats.url });
  try {
    const port = await lingeringPort(proc);
    const scrape = async (): Promise<string> => (await get(port, "/metrics")).body;
    let step = 20;
    for (const a of ASKS) {
      const before = await scrape();
      const started = performance.now();
      const reply = ask(nc, job, a, step++);
      if (a.reply === undefined) {
        const refused = a.refused ?? assert.fail(`${a.name}: a refusal names its error`);
        // the server's error reply, by its code: not a timeout or an error of this side
        const fromServer = (e: unknown): boolean => e instanceof refused && e.remote;
        await assert.rejects(reply, fromServer, a.name);
      } else assert.deepEqual({ ...(await reply).header.meta }, a.reply, a.name);
      const ms = performance.now() - started;
      assert.ok(ms < ONCE_TIMEOUT_MS, `${a.name}: answered in ${ms} ms`);
      const after = await scrape();
      assert.deepEqual(delta(requestCounts(before), requestCounts(after)), a.requests, `${a.name}: requests`);
      assert.deepEqual(delta(badMessages(before), badMessages(after)), a.bad, `${a.name}: bad messages`);
    }
    assert.equal(proc.child.exitCode, null, "the server still lingers");
  } finally {
    await nc.close();
    proc.kill("SIGKILL");
  }
});

/** As a client of a round asks for its global parameters or uploads its update, once, on `job`'s subjects. */
function ask(nc: NatsConnection, job: string, a: Ask, step: number): Promise<DecodedFrame> {
  const named = a.job ?? job;
  const round = a.round ?? 1;
  const init: FrameInit =
    a.subject === "paramsGlobal"
      ? { kind: "control", job: named, client: a.client, round, step, meta: { round } }
      : {
          kind: "parameters",
          job: named,
          client: a.client,
          round,
          step,
          meta: { round, samples: 8, kept: 8, loss: 0.5, flops: 1000 },
          tensors: [{ name: "prompt", dtype: "float32", shape: [2], data: new Float32Array([0.1, 0.2]) }],
        };
  // no retries: each request reaches the server once and is counted once
  return requestFrame(nc, jobSubjects(job)[a.subject], init, { timeoutMs: ONCE_TIMEOUT_MS, retries: 0 });
}
