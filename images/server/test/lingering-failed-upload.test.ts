// A server lingering after its job FAILED answers a participant's repeat of an upload the run had
// aggregated as the running round answered its first send: accepted (duplicate), not job-ended (ADR 0041
// amendment 12). Against a real nats-server, a real server process of a three-round job and both
// clients running in the test's process: once round 1 is aggregated (the server's round-finished line) the test
// writes the job's round state as another coordinator would, so the server's next write is refused
// (RoundStateConflictError, job.failed) and it lingers. An upload of a round the run did not aggregate,
// or from a client that was not its participant, is still not accepted (job-ended).
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { JobFailedError } from "@sfprompt/core";
import { fetchEvents, jobSubjects, requestFrame, type DecodedFrame } from "@sfprompt/protocol";
import { ENTRY, get, runConfig, spawnEntry } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestCounts } from "../../shell/test/request-histogram.js";
import { ONCE_TIMEOUT_MS } from "../../shell/test/request-once.js";
import { startClients } from "../../../packages/sfprompt/test/runtime/job-fixture.js";
import { LINGER, delta, failByConflictingWrite, lingeringPort } from "./lingering-job.js";

const f = useProcessFixture();

/** An upload of `round` from `client`, sent once, as a client sends it again after its reply was lost. */
function upload(nc: NatsConnection, job: string, client: string, round: number): Promise<DecodedFrame> {
  return requestFrame(
    nc,
    jobSubjects(job).paramsUpload,
    {
      kind: "parameters",
      job,
      client,
      round,
      step: 40 + round,
      meta: { round, samples: 8, kept: 8, loss: 0.5, flops: 1000 },
      tensors: [{ name: "prompt", dtype: "float32", shape: [2], data: new Float32Array([0.1, 0.2]) }],
    },
    { timeoutMs: ONCE_TIMEOUT_MS, retries: 0 },
  );
}

test("after its job failed, the lingering server accepts a participant's repeat of an upload the run aggregated (duplicate) and refuses the others (job-ended)", async () => {
  const config = runConfig(
    // no checkpoint after round 1: its round.finished is published before the next state write
    { training: { rounds: 3 }, output: { checkpointEvery: 3 } },
    "failed-linger-upload",
  );
  const job = config.names.job;
  const server = spawnEntry(ENTRY.server, f.entryArgs(config, `${job}-server`), LINGER);
  const nc = await connect({ servers: f.nats.url });
  const clients = await startClients(config, {
    connect: () => connect({ servers: f.nats.url }),
    bundle: f.bundle.dir,
    retryDelayMs: 100,
  });
  try {
    const finished = await server.waitForLog((l) => l.event === "round-finished" && l.round === 1, 120_000);
    // another coordinator's write: the server's next write of the round state is refused
    await failByConflictingWrite(nc, job);
    const port = await lingeringPort(server);
    const lingering = await server.waitForLog((l) => l.event === "end-replies");
    assert.equal(lingering.action, "failed", "the job failed");
    for (const c of clients) {
      const outcome = await c.done;
      assert.ok(outcome instanceof JobFailedError, `client-${c.index} ended with ${String(outcome)}`);
    }
    const events = await fetchEvents(nc, job, "test");
    const participants = events.flatMap((d) =>
      d.ok && d.event.type === "round.finished" && d.event.round === 1 ? d.event.participants : [],
    );
    assert.ok(participants.length > 0, `round 1 finished with participants (${JSON.stringify(finished)})`);
    const outsider = ["client-0", "client-1"].find((c) => !participants.includes(c));

    const asks: [string, number, Record<string, unknown>][] = [
      // each participant's update is in the round the run aggregated: its repeat is a duplicate
      ...participants.map((c): [string, number, Record<string, unknown>] => [
        c,
        1,
        { accepted: true, reason: "duplicate" },
      ]),
      ...(outsider === undefined
        ? []
        : [
            [outsider, 1, { accepted: false, reason: "job-ended" }] as [
              string,
              number,
              Record<string, unknown>,
            ],
          ]),
      ["client-1", 4, { accepted: false, reason: "job-ended" }],
    ];
    for (const [client, round, reply] of asks) {
      const before = (await get(port, "/metrics")).body;
      const answer = await upload(nc, job, client, round);
      assert.deepEqual({ ...answer.header.meta }, reply, `${client}'s upload of round ${round}`);
      const after = (await get(port, "/metrics")).body;
      assert.deepEqual(delta(requestCounts(before), requestCounts(after)), { "params-upload/ok": 1 });
    }
    assert.equal(server.child.exitCode, null, "the server still lingers");
  } finally {
    for (const c of clients) c.stop.abort();
    await Promise.all(clients.map(async (c) => (await c.done, await c.nc.close())));
    await nc.close();
    server.kill("SIGKILL");
  }
});
