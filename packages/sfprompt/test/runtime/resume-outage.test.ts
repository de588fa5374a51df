// A nats-server that stops answering while a starting server reads where to resume, against a real
// nats-server (SIGSTOP, then SIGCONT): the reads time out, which is no failure of the job. The server
// ends without job.failed and leaves no failed round state, so a server started again runs the job
// (ADR 0037); only an error that a restart cannot cure fails the job.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "@nats-io/transport-node";
import { startServer } from "@sfprompt/core";
import { fetchEvents, isTransientNatsError, openRoundState } from "@sfprompt/protocol";
import { startLocalNats } from "@sfprompt/protocol/testing";
import { tinyBundle } from "./bundle-fixture.js";
import { clientResults, jobConfig, startClients } from "./job-fixture.js";

/** `p`'s outcome (its value or what it threw), or a failure after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

test("NATS stopped under the server's resume reads: the server ends without job.failed, and one started again runs the job", async () => {
  const nats = await startLocalNats();
  const bundle = tinyBundle();
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const stop = new AbortController();
  try {
    // fl-prompt runs no body on the server: server.ready goes out before the coordinator's first read
    const config = jobConfig({ method: "fl-prompt", training: { rounds: 1 } });
    let paused = false;
    const first = await startServer(config, {
      nc,
      bundle: bundle.dir,
      lingerMs: 0,
      onEvent: (e) => {
        if (e.type !== "server.ready" || paused) return;
        paused = true;
        process.kill(nats.pid, "SIGSTOP");
      },
    });
    const ended = first.done.then(
      () => new Error("the server finished the job with NATS stopped"),
      (e: unknown) => e,
    );
    assert.ok(paused, "NATS was stopped as the server announced itself");
    // past JetStream's 5 s request timeout; the server's services close once NATS answers again
    await sleep(7000);
    process.kill(nats.pid, "SIGCONT");
    const error = await within(ended, 30_000, "the first server's end");
    assert.ok(isTransientNatsError(error), `the server ended with NATS's own error, got ${String(error)}`);

    const events = (await fetchEvents(nc, config.names.job, "resume-outage")).flatMap((d) =>
      d.ok ? [d.event] : [],
    );
    assert.deepEqual(
      events.filter((e) => e.type === "job.failed"),
      [],
      "nothing says the job failed",
    );
    const state = await (await openRoundState(nc, config.names.job)).get();
    assert.notEqual(state?.state.phase, "failed", "the round state does not say failed");

    const clients = await startClients(config, {
      connect: () => Promise.resolve(nc),
      bundle: bundle.dir,
      signal: stop.signal,
    });
    const second = await startServer(config, { nc, bundle: bundle.dir, lingerMs: 300 });
    const result = await within(second.done, 120_000, "the second server's end");
    assert.deepEqual(
      result.rounds.map((r) => r.round),
      [1],
    );
    for (const c of await clientResults(clients)) assert.deepEqual(c.rounds, [1]);
  } finally {
    stop.abort();
    process.kill(nats.pid, "SIGCONT");
    await nc.close();
    await nats.stop();
    bundle.remove();
  }
});
