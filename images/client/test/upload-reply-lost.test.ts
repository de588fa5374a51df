// A client whose upload the server accepted, and whose reply was lost with its connection while that
// upload closed the job's last round: against a real nats-server, a real lingering server process and
// two real client processes of a one-round job, the relay drops client-1's connection at the bytes of
// the upload's reply. Back after the job finished, client-1 sends the upload again at the reconnect;
// the lingering server, which knows the round's participants, answers that its update is in the
// round, so the client counts the round and logs no refusal and no unfinished round. The same when the
// job failed after that round (ADR 0041 amendment 12): the client counts the round, then stops on the
// failure (exit 5) without a refusal.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { ENTRY, get, runConfig, spawnEntry, type Proc } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestCounts } from "../../shell/test/request-histogram.js";
import { startTcpRelay } from "../../shell/test/tcp-relay.js";
import { LINGER, delta, failByConflictingWrite, lingeringPort } from "../../server/test/lingering-job.js";

const f = useProcessFixture();

// Long, so that the bound below (a quarter of it) leaves a loaded machine room to reconnect, resend and
// exit (a 5 s bound on a 20 s timeout was tight there), while a request that waited out its timeout
// cannot pass it.
const REQUEST_TIMEOUT_S = 60;

test("a client whose accepted upload's reply was lost as the job finished sends it again, is told it is in the round, and counts the round", async () => {
  const config = runConfig(
    { training: { rounds: 1 }, transport: { requestTimeoutSeconds: REQUEST_TIMEOUT_S } },
    "upload-reply-lost",
  );
  const name = config.job.name;
  // the upload's reply carries `"accepted":true` in its meta: client-1 never gets it
  const relay = await startTcpRelay(f.nats.url, undefined, '"accepted":true');
  const running: Proc[] = [];
  try {
    const server = spawnEntry(ENTRY.server, f.entryArgs(config, `${name}-server`), LINGER);
    const client = (index: number, natsUrl: string): Proc => {
      const args = f.entryArgs(config, `${name}-${index}`);
      args[args.indexOf("--nats-url") + 1] = natsUrl;
      return spawnEntry(ENTRY.client, [...args, "--client-index", String(index)]);
    };
    const other = client(0, f.nats.url);
    const cut = client(1, relay.url);
    running.push(server, other, cut);
    await relay.wasCut;
    // both uploads are in: the round closes, the job finishes, the server lingers
    const port = await lingeringPort(server);
    assert.equal((await other.exited).code, 0, other.stderr());
    const before = (await get(port, "/metrics")).body;
    const from = cut.logs.length;
    const at = performance.now();
    relay.restore();
    const { code } = await cut.exited;
    const ms = performance.now() - at;
    const logs = cut.logs.slice(from);
    const trace = logs.map((l) => JSON.stringify(l)).join("\n");
    assert.equal(code, 0, `${cut.stderr()}\n${trace}`);
    assert.ok(ms < (REQUEST_TIMEOUT_S * 1000) / 4, `exited ${ms} ms after the network came back\n${trace}`);
    const resent = logs.find((l) => l.event === "request-resent");
    assert.equal(resent?.subject, `sfp.${config.names.job}.params.upload`, trace);
    assert.equal(resent.round, 1, trace);
    assert.deepEqual(
      logs.filter((l) => l.event === "upload-refused" || l.event === "round-unfinished"),
      [],
      trace,
    );
    assert.equal(logs.find((l) => l.event === "client-done")?.rounds, 1, trace);
    const after = (await get(port, "/metrics")).body;
    assert.deepEqual(
      delta(requestCounts(before), requestCounts(after)),
      { "params-upload/ok": 1, "poll/ok": 1 },
      trace,
    );
  } finally {
    for (const p of running) p.kill("SIGKILL");
    await relay.close();
  }
});

test("a client whose accepted upload's reply was lost before the job failed sends it again, is told it is in the round, counts the round and stops on the failure", async () => {
  const config = runConfig(
    {
      // the cut client cannot take part in round 2: when the test's write lands after the server
      // opened it (a loaded machine), the server's next write is when round 2 aggregates the other
      // client's upload alone, at its timeout (kept short)
      training: { rounds: 2, roundTimeoutSeconds: 15, quorum: { count: 1 } },
      // no checkpoint after round 1: the server's next state write after it opens round 2
      output: { checkpointEvery: 2 },
      transport: { requestTimeoutSeconds: REQUEST_TIMEOUT_S },
    },
    "upload-reply-lost-failed",
  );
  const name = config.job.name;
  const relay = await startTcpRelay(f.nats.url, undefined, '"accepted":true');
  const running: Proc[] = [];
  const nc = await connect({ servers: f.nats.url });
  try {
    const server = spawnEntry(ENTRY.server, f.entryArgs(config, `${name}-server`), LINGER);
    const client = (index: number, natsUrl: string): Proc => {
      const args = f.entryArgs(config, `${name}-${index}`);
      args[args.indexOf("--nats-url") + 1] = natsUrl;
      return spawnEntry(ENTRY.client, [...args, "--client-index", String(index)]);
    };
    const other = client(0, f.nats.url);
    const cut = client(1, relay.url);
    running.push(server, other, cut);
    await relay.wasCut;
    // both uploads are in: round 1 is aggregated; then another coordinator's write fails the job
    await server.waitForLog((l) => l.event === "round-finished" && l.round === 1, 60_000);
    await failByConflictingWrite(nc, config.names.job);
    const port = await lingeringPort(server);
    const lingering = await server.waitForLog((l) => l.event === "end-replies");
    assert.equal(lingering.action, "failed");
    assert.equal((await other.exited).code, 5, other.stderr());
    const before = (await get(port, "/metrics")).body;
    const from = cut.logs.length;
    const at = performance.now();
    relay.restore();
    const { code } = await cut.exited;
    const ms = performance.now() - at;
    const logs = cut.logs.slice(from);
    const trace = logs.map((l) => JSON.stringify(l)).join("\n");
    assert.equal(code, 5, `${cut.stderr()}\n${trace}`);
    assert.ok(ms < (REQUEST_TIMEOUT_S * 1000) / 4, `exited ${ms} ms after the network came back\n${trace}`);
    const resent = logs.find((l) => l.event === "request-resent");
    assert.equal(resent?.subject, `sfp.${config.names.job}.params.upload`, trace);
    assert.equal(resent.round, 1, trace);
    assert.deepEqual(
      logs.filter((l) => l.event === "upload-refused"),
      [],
      trace,
    );
    const failed = logs.find((l) => l.event === "job-failed");
    assert.equal(failed?.reason, "RoundStateConflictError", trace);
    assert.equal(failed.rounds, 1, `round 1 counted\n${trace}`);
    const after = (await get(port, "/metrics")).body;
    assert.deepEqual(
      delta(requestCounts(before), requestCounts(after)),
      { "params-upload/ok": 1, "poll/ok": 1 },
      trace,
    );
  } finally {
    await nc.close();
    for (const p of running) p.kill("SIGKILL");
    await relay.close();
  }
});
