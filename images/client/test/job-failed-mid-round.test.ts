// A client process that was mid-round when its job failed without it, against a real nats-server, a
// real server process that lingers after the failure and real client processes of a one-round job
// (quorum one): client-0's network is cut while its local-update state report waits for a reply, and
// meanwhile the job fails (the test writes the job's round state as another coordinator would, so
// the server's next write is refused: RoundStateConflictError, job.failed). Back, client-0 missed the
// live job.failed; the lingering server answers its resent report with the failure, and client-0
// stops at once as a client of a failed job: job-failed with the server's reason, exit 5, without
// training on to a body request nobody answers. A client started after the failure stops the same way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { ENTRY, get, runConfig, spawnEntry, type LogLine, type Proc } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestCounts } from "../../shell/test/request-histogram.js";
import { startTcpRelay } from "../../shell/test/tcp-relay.js";
import { LINGER, delta, failByConflictingWrite, lingeringPort } from "../../server/test/lingering-job.js";

const f = useProcessFixture();

// Long, so that the bound below (a quarter of it) leaves a loaded machine room to reconnect, resend and
// exit (a 5 s bound on a 20 s timeout was tight there), while a request that waited out its timeout
// cannot pass it.
const REQUEST_TIMEOUT_S = 60;

/** Every line names the job and client-0; the failure is said with the server's reason; exit 5. */
function checkFailedLines(logs: readonly LogLine[], job: string, trace: string): void {
  for (const l of logs) assert.equal(l.job, job, `${l.event} carries the job`);
  const failed = logs.find((l) => l.event === "job-failed");
  assert.equal(failed?.level, "error", trace);
  assert.equal(failed.reason, "RoundStateConflictError", trace);
  assert.equal(failed.rounds, 0, trace);
  assert.equal(logs.find((l) => l.event === "runtime.job-failed")?.reason, "RoundStateConflictError", trace);
  assert.equal(logs.find((l) => l.event === "process.exit")?.code, 5, trace);
  for (const finished of ["client-done", "round-unfinished"])
    assert.ok(!logs.some((l) => l.event === finished), `no ${finished} for a failed job\n${trace}`);
}

test("a client cut off mid-round while its job failed learns the failure from the lingering server's reply to its resent report and exits 5 at once; one started later exits 5 too", async () => {
  const config = runConfig(
    {
      training: { rounds: 1, quorum: { count: 1 }, roundTimeoutSeconds: 3 },
      transport: { requestTimeoutSeconds: REQUEST_TIMEOUT_S },
    },
    "failed-mid-round",
  );
  const job = config.names.job;
  const relay = await startTcpRelay(f.nats.url, "local-update");
  const running: Proc[] = [];
  const client = (index: number, url: string, file: string): Proc => {
    const args = f.entryArgs(config, file);
    args[args.indexOf("--nats-url") + 1] = url;
    const p = spawnEntry(ENTRY.client, [...args, "--client-index", String(index)]);
    running.push(p);
    return p;
  };
  const nc = await connect({ servers: f.nats.url });
  try {
    const server = spawnEntry(ENTRY.server, f.entryArgs(config, `${job}-server`), LINGER);
    running.push(server);
    const slow = client(0, relay.url, `${job}-0`);
    const other = client(1, f.nats.url, `${job}-1`);
    await relay.wasCut;
    // another coordinator's write: the server's next write of the round state is refused
    await failByConflictingWrite(nc, job);
    const port = await lingeringPort(server);
    const lingering = await server.waitForLog((l) => l.event === "end-replies");
    assert.equal(lingering.action, "failed");
    assert.equal((await other.exited).code, 5, other.stderr());
    const before = (await get(port, "/metrics")).body;

    const from = slow.logs.length;
    const at = performance.now();
    relay.restore();
    const { code } = await slow.exited;
    const ms = performance.now() - at;
    const logs = slow.logs.slice(from);
    const trace = logs.map((l) => JSON.stringify(l)).join("\n");
    assert.equal(code, 5, `${slow.stderr()}\n${trace}`);
    assert.ok(ms < (REQUEST_TIMEOUT_S * 1000) / 4, `exited ${ms} ms after the network came back\n${trace}`);
    checkFailedLines(logs, job, trace);
    // the round stopped at the report: no body request met the missing body service
    assert.ok(!logs.some((l) => l.event === "round-abandoned"), trace);
    const afterSlow = (await get(port, "/metrics")).body;
    assert.deepEqual(delta(requestCounts(before), requestCounts(afterSlow)), { "report/ok": 1 }, trace);

    // a client that starts after the failure polls, and the lingering server tells it the same
    const late = client(0, f.nats.url, `${job}-late`);
    const lateExit = await late.exited;
    const lateTrace = late.logs.map((l) => JSON.stringify(l)).join("\n");
    assert.equal(lateExit.code, 5, `${late.stderr()}\n${lateTrace}`);
    checkFailedLines(late.logs, job, lateTrace);
    const afterLate = (await get(port, "/metrics")).body;
    assert.deepEqual(delta(requestCounts(afterSlow), requestCounts(afterLate)), { "poll/ok": 1 }, lateTrace);
  } finally {
    await nc.close();
    for (const p of running) p.kill("SIGKILL");
    await relay.close();
  }
});
