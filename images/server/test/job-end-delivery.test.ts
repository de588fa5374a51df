// The server entry point that fails its job while NATS is away for longer than its events' retry
// budget, against a real nats-server killed and started again on the same store: the process lingers
// (as under the operator's Deployment) and goes on sending its job.failed and writing the failed round
// state until NATS takes them, so the operator hears of the failure and the clients stop. The budgets
// are cut to seconds here (SFPROMPT_STORE_RETRY_SECONDS, SFPROMPT_EVENT_RETRY_SECONDS).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { JobFailedError } from "@sfprompt/core";
import { fetchEvents, openRoundState, type JobFailed } from "@sfprompt/protocol";
import { startLocalNats, type LocalNats } from "@sfprompt/protocol/testing";
import { ENTRY, runConfig, spawnEntry, tempDir, until } from "../../shell/test/harness.js";
import { tinyBundle } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { startClients } from "../../../packages/sfprompt/test/runtime/job-fixture.js";

test("a job.failed that NATS could not take within the events' budget is delivered by the lingering server once NATS is back", async () => {
  const store = mkdtempSync(join(tmpdir(), "sfprompt-end-delivery-"));
  const tmp = tempDir();
  const bundle = tinyBundle();
  let nats: LocalNats = await startLocalNats({ storeDir: join(store, "js") });
  const port = nats.port;
  const name = "srv-end-delivery";
  // one client, a checkpoint every round, and an evaluation long enough to kill NATS under it
  const config = runConfig(
    {
      clients: { count: 1, perRound: { count: 1 } },
      training: { rounds: 2, quorum: { count: 1 }, evaluation: { maxSamples: 2000 } },
      output: { checkpointEvery: 1 },
    },
    name,
  );
  const proc = spawnEntry(ENTRY.server, ["--bundle-dir", bundle.dir], {
    SFPROMPT_RUN_CONFIG: tmp.write(`${name}.json`, JSON.stringify(config)),
    NATS_URL: nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_LINGER_AFTER_FINISH: "true",
    SFPROMPT_STORE_RETRY_SECONDS: "2",
    SFPROMPT_EVENT_RETRY_SECONDS: "2",
  });
  const [client] = await startClients(config, {
    connect: () => connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 500 }),
    bundle: bundle.dir,
    indices: [0],
    retryDelayMs: 200,
  });
  try {
    // the round's upload is in: the server evaluates, then writes the round's checkpoint, into the outage
    await proc.waitForLog((l) => l.event === "upload" && l.round === 1, 60_000);
    process.kill(nats.pid, "SIGKILL");
    await nats.stop();
    const givenUp = await proc.waitForLog(
      (l) => l.event === "event-publish-failed" && l.type === "job.failed",
      60_000,
    );
    assert.equal(givenUp.level, "warn");
    await proc.waitForLog((l) => l.event === "runtime.lingering", 30_000);
    const failed = proc.logs.find((l) => l.event === "runtime.failed");
    assert.equal(failed?.reason, "JobStoreError", JSON.stringify(failed));
    await new Promise((r) => setTimeout(r, 2000)); // past the budget, the server still trying

    nats = await startLocalNats({ storeDir: join(store, "js"), port });
    await proc.waitForLog((l) => l.event === "job-end-delivered", 60_000);
    const nc = await connect({ servers: nats.url });
    try {
      // what the operator folds into the job's status
      const event = await until(
        async () => {
          const got = await fetchEvents(nc, config.names.job, `read-${Date.now()}`, { max: 1000 });
          return got.flatMap((d) => (d.ok && d.event.type === "job.failed" ? [d.event as JobFailed] : []))[0];
        },
        20_000,
        "job.failed on the job's stream",
      );
      assert.equal(event.reason, "JobStoreError");
      assert.match(event.message, /checkpoint of round 1/);
      // what a client that missed the event reads
      await proc.waitForLog((l) => l.event === "round-state-delivered", 30_000);
      const stored = await (await openRoundState(nc, config.names.job, { create: false })).get();
      assert.deepEqual([stored?.state.phase, stored?.state.failure?.reason], ["failed", "JobStoreError"]);
      assert.equal(stored?.state.attempt, event.attempt, "the state names the failed run's attempt");
    } finally {
      await nc.close();
    }
    // the client, still polling, hears the failure
    const outcome = await Promise.race([
      client!.done,
      new Promise((r) => setTimeout(() => r("still polling"), 30_000).unref()),
    ]);
    assert.ok(outcome instanceof JobFailedError, `the client ended with ${String(outcome)}`);
    assert.equal(outcome.reason, "JobStoreError");
    assert.equal(proc.child.exitCode, null, "the server still lingers");
  } finally {
    proc.kill("SIGKILL");
    client!.stop.abort();
    await client!.done;
    await client!.nc.close();
    await nats.stop();
    bundle.remove();
    tmp.remove();
    rmSync(store, { recursive: true, force: true });
  }
});
