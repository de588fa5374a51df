// A client whose upload the server accepted, and whose reply was lost with its connection while that
// upload closed the job's last round: against a real nats-server, a real lingering server process and
// two real client processes of a one-round job, the relay drops client-1's connection at the bytes of
// the upload's reply. Back after the job finished, client-1 sends the upload again at the reconnect;
// the lingering server, which knows the round's participants, answers that its update is in the
// round, so the client counts the round and logs no refusal and no unfinished round.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ENTRY, get, runConfig, spawnEntry, type Proc } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestCounts } from "../../shell/test/request-histogram.js";
import { startTcpRelay } from "../../shell/test/tcp-relay.js";
import { LINGER, delta, lingeringPort } from "../../server/test/lingering-job.js";

const f = useProcessFixture();

const REQUEST_TIMEOUT_S = 20;

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
