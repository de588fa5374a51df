// The bundled NATS's configuration, as the chart renders it, runs in a real nats-server with
// JetStream on and the limits from the values.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort, waitFor } from "@sfprompt/kube-testing";
import { find, render } from "./chart.js";

const dir = mkdtempSync(join(tmpdir(), "sfprompt-chart-nats-"));
let server: ChildProcess | undefined;
after(() => {
  server?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

interface Varz {
  max_payload: number;
  jetstream?: { config?: { max_memory: number; max_storage: number; store_dir: string } };
}

describe("bundled NATS configuration", () => {
  it("starts nats-server with JetStream, the payload limit and the store limits from the values", async () => {
    const values = { "nats.maxPayload": "2MB", "nats.jetstream.maxMemory": "32MB", "nats.jetstream.maxFile": "512MB" };
    const cm = find(await render(values), "ConfigMap", "sfprompt-operator-nats") as unknown as { data: Record<string, string> };
    const [client, monitor] = [await freePort(), await freePort()];
    // Only the ports and the data folder differ from what the pod runs.
    const conf = cm.data["nats.conf"]!.replace("port: 4222", `port: ${client}`)
      .replace("http_port: 8222", `http_port: ${monitor}`)
      .replace("store_dir: /data", `store_dir: ${JSON.stringify(join(dir, "data"))}`);
    assert.notEqual(conf, cm.data["nats.conf"]);
    writeFileSync(join(dir, "nats.conf"), conf);
    server = spawn("nats-server", ["--config", join(dir, "nats.conf")], { stdio: "ignore" });
    const varz = await waitFor(
      async () => (await (await fetch(`http://127.0.0.1:${monitor}/varz`)).json()) as Varz,
      { timeoutMs: 10_000, description: "nats-server monitoring" },
    );
    assert.equal(varz.max_payload, 2 * 1024 * 1024);
    assert.equal(varz.jetstream?.config?.max_memory, 32 * 1024 * 1024);
    assert.equal(varz.jetstream?.config?.max_storage, 512 * 1024 * 1024);
    // JetStream comes up after the monitoring port answers: its health check is 503 until then (seen
    // on a loaded machine), so wait for it to pass rather than read it once
    const health = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`);
        await res.body?.cancel();
        return res.status === 200 ? res.status : false;
      },
      { timeoutMs: 10_000, description: "nats-server healthz?js-enabled-only=true to answer 200" },
    );
    assert.equal(health, 200);
  });
});
