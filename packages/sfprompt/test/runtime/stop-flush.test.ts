// A server stopped (SIGTERM) the moment it announces a round still gets that round's events onto the
// stream before its process closes its NATS connection, against a real nats-server made slow to
// acknowledge (SIGSTOP for a moment, then SIGCONT): before, the queued round.finished was lost, so
// the operator's status and the next `sfprompt run` never heard of a round the store had checkpointed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { fetchEvents } from "@sfprompt/protocol";
import { startLocalNats } from "@sfprompt/protocol/testing";
import type { ServerHandle } from "@sfprompt/core";
import { tinyBundle } from "./bundle-fixture.js";
import { jobConfig, startClients, startTestServer } from "./job-fixture.js";

test("a server stopped as it announces round 1 gets round 1's events onto the stream before its connection closes", async () => {
  const nats = await startLocalNats();
  const bundle = tinyBundle();
  const reader = await connect({ servers: nats.url });
  const stopClients = new AbortController();
  try {
    const config = jobConfig({ training: { rounds: 3, roundTimeoutSeconds: 30 } });
    const clients = await startClients(config, {
      connect: () => connect({ servers: nats.url }),
      bundle: bundle.dir,
      signal: stopClients.signal,
    });
    const own = await connect({ servers: nats.url });
    let stopped: Promise<void> | undefined;
    const server: ServerHandle = await startTestServer(config, {
      nc: own,
      bundle: bundle.dir,
      onEvent: (e) => {
        if (e.type !== "round.finished" || e.round !== 1 || stopped !== undefined) return;
        // NATS slow to acknowledge (a loaded machine) as the stop comes: the event is still queued
        process.kill(nats.pid, "SIGSTOP");
        setTimeout(() => process.kill(nats.pid, "SIGCONT"), 800);
        stopped = server.stop();
      },
    });
    await server.done.catch(() => undefined);
    await stopped;
    // what the process does once the server is done (images, `sfprompt run`'s children)
    await own.close();
    stopClients.abort();
    await Promise.all(clients.map((c) => c.done.catch(() => undefined)));
    const onStream = (await fetchEvents(reader, config.names.job, "after-stop", { max: 1000 }))
      .flatMap((d) => (d.ok ? [d.event] : []))
      .flatMap((e) =>
        e.type === "round.finished" || e.type === "checkpoint.written" ? [`${e.type} ${e.round}`] : [],
      );
    assert.deepEqual(onStream, ["checkpoint.written 1", "round.finished 1"]);
  } finally {
    process.kill(nats.pid, "SIGCONT");
    await reader.close();
    await nats.stop();
    bundle.remove();
  }
});
