import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsServerNotFoundError, startLocalNats, startNatsServer } from "@sfprompt/protocol/testing";

describe("local nats-server", () => {
  it("starts on a free loopback port with the requested max_payload and JetStream, and stop() removes it", async () => {
    const server = await startNatsServer({ maxPayload: 3 * 1024 * 1024 });
    const nc = await connect({ servers: server.url });
    try {
      assert.equal(nc.info?.max_payload, 3 * 1024 * 1024);
      assert.equal(nc.info?.jetstream, true);
      const info = await (await jetstreamManager(nc)).getAccountInfo();
      assert.equal(info.streams, 0);
    } finally {
      await nc.close();
      await server.stop();
    }
    await assert.rejects(connect({ servers: server.url, reconnect: false, timeout: 500 }));
  });

  it("defaults max_payload to 8 MiB and runs two servers side by side", async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    try {
      assert.notEqual(a.port, b.port);
      const nc = await connect({ servers: b.url });
      assert.equal(nc.info?.max_payload, 8 * 1024 * 1024);
      await nc.close();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("keeps a given JetStream store after stop, so a second run finds its streams", async () => {
    const storeDir = await mkdtemp(join(tmpdir(), "sfp-store-"));
    try {
      const first = await startLocalNats({ storeDir });
      const nc1 = await connect({ servers: first.url });
      await (await jetstreamManager(nc1)).streams.add({ name: "kept", subjects: ["kept.>"] });
      await nc1.close();
      await first.stop();
      assert.ok(existsSync(storeDir));
      const second = await startLocalNats({ storeDir });
      const nc2 = await connect({ servers: second.url });
      const names = [];
      for await (const n of (await jetstreamManager(nc2)).streams.names()) names.push(n);
      assert.deepEqual(names, ["kept"]);
      await nc2.close();
      await second.stop();
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it("tells the user to run scripts/setup.sh when the binary is missing", async () => {
    await assert.rejects(startLocalNats({ binary: "/nonexistent/nats-server" }), (e: unknown) => {
      assert.ok(e instanceof NatsServerNotFoundError);
      assert.match(e.message, /scripts\/setup\.sh/);
      return true;
    });
  });
});
