// The server entry point when its job cannot run, against real nats-servers: an error that fails the
// job for good is published as job.failed and, with --linger-after-finish (the operator's Deployment),
// the process stays up not-ready instead of exiting into a restart loop; NATS without JetStream is no
// fault of the job, so the process exits to be restarted, lingering or not. The failed server leaves
// the round state's failed phase and answers every client's poll with the failure, so a client that
// starts after the failure stops too.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { JobFailedError } from "@sfprompt/core";
import { fetchEvents, openRoundState } from "@sfprompt/protocol";
import { findNatsServer, startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { ENTRY, get, runConfig, spawnEntry, tempDir, until } from "../../shell/test/harness.js";
import { tinyBundle } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { startClients } from "../../../packages/sfprompt/test/runtime/job-fixture.js";

let nats: TestNats;
const tmp = tempDir();

before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await nats.stop();
  tmp.remove();
});

/** The settings the operator gives the server container (operator/src/desired/server.ts), for `name`. */
function serverEnv(name: string, config: object, natsUrl: string): Record<string, string> {
  return {
    SFPROMPT_RUN_CONFIG: tmp.write(`${name}.json`, JSON.stringify(config)),
    NATS_URL: natsUrl,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_LINGER_AFTER_FINISH: "true",
    SFPROMPT_CONNECT_TIMEOUT_SECONDS: "10",
  };
}

test("a model that is not mounted fails the job naming spec.model.source.path, and the lingering server stays up not-ready until SIGTERM", async () => {
  const name = "srv-nomodel";
  const config = runConfig({ model: { source: { path: "/nonexistent/model.onnx" } } }, name);
  const proc = spawnEntry(ENTRY.server, [], serverEnv(name, config, nats.url));
  try {
    const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
    const line = await proc.waitForLog((l) => l.event === "config.invalid");
    assert.deepEqual(
      [line.field, line.reason, line.jobFailed],
      ["spec.model.source.path", "JobInputError", true],
    );
    await proc.waitForLog((l) => l.event === "runtime.lingering");
    const ready = await get(port, "/readyz");
    assert.deepEqual([ready.status, ready.body], [503, "not ready: job failed: JobInputError\n"]);
    assert.equal((await get(port, "/healthz")).status, 200, "alive, so the kubelet does not restart it");

    // what the operator folds into the job's status
    const nc = await connect({ servers: nats.url });
    try {
      const failed = (await fetchEvents(nc, config.names.job, "test")).flatMap((d) =>
        d.ok && d.event.type === "job.failed" ? [d.event] : [],
      );
      assert.equal(failed.length, 1, "one job.failed on the job's stream");
      assert.equal(failed[0]!.reason, "JobInputError");
      assert.match(failed[0]!.message, /^spec\.model\.source\.path: /);
    } finally {
      await nc.close();
    }
    assert.equal(proc.child.exitCode, null, "still up");
    proc.kill("SIGTERM");
    const exit = await proc.exited;
    assert.equal(exit.code, 1, `exits with the failure's code on SIGTERM: ${proc.stderr()}`);
  } finally {
    proc.kill("SIGKILL");
  }
});

test("a server that failed on a missing model leaves the failed round state, and a client started after the failure stops with JobFailedError", async () => {
  const name = "srv-nomodel-late";
  const config = runConfig({ model: { source: { path: "/nonexistent/model.onnx" } } }, name);
  const proc = spawnEntry(ENTRY.server, [], serverEnv(name, config, nats.url));
  const bundle = tinyBundle();
  const nc = await connect({ servers: nats.url });
  try {
    await proc.waitForLog((l) => l.event === "runtime.lingering");
    // what a client that polls no server (it restarted, or missed the event) reads
    const stored = await (await openRoundState(nc, config.names.job, { create: false })).get();
    assert.equal(stored?.state.phase, "failed");
    assert.equal(stored?.state.failure?.reason, "JobInputError");
    assert.match(stored?.state.failure?.message ?? "", /^spec\.model\.source\.path: /);

    // a client that starts now missed the live job.failed; the lingering server tells it
    const [client] = await startClients(config, {
      connect: () => connect({ servers: nats.url }),
      bundle: bundle.dir,
      indices: [0],
      retryDelayMs: 100,
    });
    const late = Symbol("still polling");
    const outcome = await Promise.race([
      client!.done,
      new Promise((r) => setTimeout(() => r(late), 20_000).unref()),
    ]);
    client!.stop.abort();
    await client!.done;
    await client!.nc.close();
    assert.ok(outcome instanceof JobFailedError, `the client ended with ${String(outcome)}`);
    assert.equal(outcome.reason, "JobInputError");
    assert.match(outcome.serverMessage, /^spec\.model\.source\.path: /);
  } finally {
    proc.kill("SIGKILL");
    await nc.close();
    bundle.remove();
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

test("a NATS without JetStream is no fault of the job: the server exits 2 to be restarted, lingering or not, and fails nothing", async () => {
  const port = await freePort();
  const plain = spawn(findNatsServer(), ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  try {
    const url = `nats://127.0.0.1:${port}`;
    await until(
      async () => {
        const nc = await connect({ servers: url }).catch(() => undefined);
        await nc?.close();
        return nc ? true : undefined;
      },
      10_000,
      "the nats-server without JetStream",
    );
    const name = "srv-nojs";
    const proc = spawnEntry(ENTRY.server, [], serverEnv(name, runConfig({}, name), url));
    try {
      const exit = await proc.exited;
      assert.equal(exit.code, 2, proc.stderr());
      const line = proc.logs.find((l) => l.event === "nats.unavailable");
      assert.ok(line, `a nats.unavailable line: ${proc.logs.map((l) => l.event).join(", ")}`);
      assert.equal(line.level, "error");
      assert.ok(!proc.logs.some((l) => l.event === "runtime.lingering"), "no lingering on a passing fault");
    } finally {
      proc.kill("SIGKILL");
    }
  } finally {
    plain.kill("SIGKILL");
  }
});
