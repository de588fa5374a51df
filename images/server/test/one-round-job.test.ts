// A whole job across processes: one server and two client entry points, each a real child process
// on a real nats-server, train one round of a tiny ViT to completion (the runtime tests' fixture).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { fetchEvents, type ProgressEvent } from "@sfprompt/protocol";
import { ENTRY, get, runConfig, sample, spawnEntry, useEntryFixtures } from "../../shell/test/harness.js";
import { trafficSeries } from "../../shell/test/traffic-series.js";

const w = useEntryFixtures();

// sfprompt splits the model between the processes; fl-full trains the whole model on the clients
// (the processes get the source model through --model-path).
for (const method of ["sfprompt", "fl-full"] as const) {
  test(`one server and two client processes complete a one-round ${method} job and exit 0`, async () => {
    await oneRoundJob(method);
  });
}

async function oneRoundJob(method: "sfprompt" | "fl-full"): Promise<void> {
  const config = runConfig({ method, training: { rounds: 1 } }, `one-round-${method}`);
  const path = w.tmp.write(`${method}.json`, JSON.stringify(config));
  const model = join(w.bundle.dir, "..", "tiny-vit.onnx");
  const common = ["--config", path, "--nats-url", w.nats.url, "--http-host", "127.0.0.1", "--http-port", "0"];
  common.push("--bundle-dir", w.bundle.dir, "--model-path", model);
  const server = spawnEntry(ENTRY.server, common);
  const clients = [0, 1].map((i) => spawnEntry(ENTRY.client, [...common, "--client-index", String(i)]));
  const all = [server, ...clients];
  try {
    const exits = await Promise.all(all.map((p) => p.exited));
    exits.forEach((e, i) =>
      assert.equal(
        e.code,
        0,
        `process ${i}: ${JSON.stringify(all[i]!.logs.filter((l) => l.level !== "debug").slice(-8))} ${all[i]!.stderr()}`,
      ),
    );
    const done = server.logs.find((l) => l.event === "server.done");
    assert.equal(done?.rounds, 1);
    for (const [i, c] of clients.entries()) {
      const line = c.logs.find((l) => l.event === "client.done");
      assert.deepEqual(line?.rounds, [1], `client ${i} had round 1 accepted`);
      assert.ok(c.logs.every((l) => l.client === `client-${i}`));
    }
    // what the operator would fold into the status: the job's events on its JetStream stream
    const nc = await connect({ servers: w.nats.url });
    try {
      const events: ProgressEvent[] = (await fetchEvents(nc, config.names.job, "test")).flatMap((d) =>
        d.ok ? [d.event] : [],
      );
      const finished = events.find((e) => e.type === "round.finished");
      assert.ok(finished?.type === "round.finished" && finished.round === 1, "round 1 finished");
      assert.deepEqual([...finished.participants].sort(), ["client-0", "client-1"]);
      assert.ok(finished.bytes.up > 0 && finished.bytes.down > 0);
      assert.ok(events.some((e) => e.type === "job.finished"));
    } finally {
      await nc.close();
    }
  } finally {
    for (const p of all) p.kill("SIGKILL");
  }
}

test("with --linger-after-finish the server stays up and healthy after the job finished, and exits 0 on SIGTERM", async () => {
  const config = runConfig({ method: "sfprompt", training: { rounds: 1 } }, "one-round-linger");
  const path = w.tmp.write("linger.json", JSON.stringify(config));
  const common = ["--config", path, "--nats-url", w.nats.url, "--http-host", "127.0.0.1", "--http-port", "0"];
  common.push("--bundle-dir", w.bundle.dir);
  // the operator sets the env var on the server Deployment; the flag is the same setting
  const server = spawnEntry(ENTRY.server, common, { SFPROMPT_LINGER_AFTER_FINISH: "true" });
  const clients = [0, 1].map((i) => spawnEntry(ENTRY.client, [...common, "--client-index", String(i)]));
  try {
    for (const c of clients) assert.equal((await c.exited).code, 0, c.stderr());
    const listening = await server.waitForLog((l) => l.event === "http.listening");
    await server.waitForLog((l) => l.event === "runtime.lingering", 60_000);
    assert.ok(server.logs.some((l) => l.event === "runtime.finished"));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(server.child.exitCode, null, "the server is still running after the job finished");
    const health = await fetch(`http://127.0.0.1:${String(listening.port)}/healthz`);
    assert.equal(health.status, 200);
    // the bytes were counted as they went (live), and not once more when the runtime returned: the
    // body's, all inside round 1, are what round.finished reported for it, both directions together
    const metrics = (await get(Number(listening.port), "/metrics")).body;
    const bytes = trafficSeries(metrics, "sfprompt_process_bytes_total");
    for (const kind of ["activation", "gradient"]) {
      const job = sample(metrics, `sfprompt_job_bytes_total{kind="${kind}"}`);
      assert.ok(job !== undefined && job > 0, `round 1 reported ${kind} bytes`);
      assert.equal((bytes[`${kind}/sent`] ?? 0) + (bytes[`${kind}/received`] ?? 0), job, kind);
    }
    server.kill("SIGTERM");
    const exit = await server.exited;
    assert.equal(exit.code, 0, server.stderr());
  } finally {
    for (const p of [server, ...clients]) p.kill("SIGKILL");
  }
});

test("a bad SFPROMPT_LINGER_AFTER_FINISH is refused with exit code 1, naming the variable", async () => {
  const path = w.tmp.write("linger-bad.json", JSON.stringify(runConfig({}, "linger-bad")));
  const p = spawnEntry(ENTRY.server, ["--config", path, "--nats-url", w.nats.url, "--http-port", "0"], {
    SFPROMPT_LINGER_AFTER_FINISH: "yes",
  });
  const exit = await p.exited;
  assert.equal(exit.code, 1);
  const line = p.logs.find((l) => l.event === "config.invalid");
  assert.match(String(line?.setting), /SFPROMPT_LINGER_AFTER_FINISH/);
});
