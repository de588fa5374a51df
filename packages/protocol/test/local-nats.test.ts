import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsServerNotFoundError, startLocalNats, startNatsServer } from "@sfprompt/protocol/testing";

/** True once `pid` has exited (or is a zombie waiting for a reaper), polling for up to 3 s. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (stat === "" || / Z /.test(stat)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

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

  it("kills its server and removes its temp dir when the process exits without stop()", async () => {
    const script =
      'import { startLocalNats } from "@sfprompt/protocol";' +
      "const s = await startLocalNats(); console.log(JSON.stringify({ pid: s.pid, log: s.logFile })); process.exit(0);";
    const out = execFileSync(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
      {
        encoding: "utf8",
      },
    );
    const { pid, log } = JSON.parse(out.trim()) as { pid: number; log: string };
    assert.equal(await gone(pid), true, `nats-server ${pid} still runs`);
    assert.equal(existsSync(dirname(log)), false);
  });

  it("tells the user to run scripts/setup.sh when the binary is missing", async () => {
    await assert.rejects(startLocalNats({ binary: "/nonexistent/nats-server" }), (e: unknown) => {
      assert.ok(e instanceof NatsServerNotFoundError);
      assert.match(e.message, /scripts\/setup\.sh/);
      return true;
    });
  });
});
