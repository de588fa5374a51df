// The job's JetStream store going away or filling up under a running job, against a real nats-server:
// a nats-server restarted (same port, same store) while the coordinator writes a checkpoint does not
// fail the job, and a store without room fails it with an error that names the write and what to do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  checkpointObjectName,
  openArtifactStore,
  openRoundState,
  type ProgressEvent,
} from "@sfprompt/protocol";
import { startLocalNats, type LocalNats } from "@sfprompt/protocol/testing";
import {
  JobFailedError,
  JobStoreError,
  PartitionBundle,
  decodeParamSet,
  joinParams,
  paramsAllClose,
  jsonLogger,
  type ServerHandle,
} from "@sfprompt/core";
import { tinyBundle } from "./bundle-fixture.js";
import { jobConfig, startClients, startTestServer } from "./job-fixture.js";

interface Job {
  readonly server: ServerHandle;
  readonly logs: Record<string, unknown>[];
  /** Each client's result, or the error it ended with. */
  readonly clients: Promise<unknown>[];
  /** Stops the clients and closes every connection. */
  stop(): Promise<void>;
}

/** Starts clients and server of `config` on `url`, each on its own connection that reconnects. */
async function startJob(
  url: string,
  config: RunConfig,
  bundleDir: string,
  onEvent: (e: ProgressEvent) => void,
  onLog: (line: Record<string, unknown>) => void = () => {},
  eventAttempts?: number,
): Promise<Job> {
  const conns: NatsConnection[] = [];
  const open = async (): Promise<NatsConnection> => {
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    conns.push(nc);
    return nc;
  };
  const stop = new AbortController();
  const clients = await startClients(config, { connect: open, bundle: bundleDir, signal: stop.signal });
  const logs: Record<string, unknown>[] = [];
  const logger = jsonLogger({
    level: "info",
    write: (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      logs.push(line);
      onLog(line);
    },
  });
  const server = await startTestServer(config, {
    nc: await open(),
    bundle: bundleDir,
    logger,
    onEvent,
    ...(eventAttempts === undefined ? {} : { eventRetry: { attempts: eventAttempts } }),
  });
  return {
    server,
    logs,
    clients: clients.map((c) => c.done),
    async stop() {
      stop.abort();
      await Promise.all(clients.map((c) => c.done));
      await Promise.allSettled(conns.map((c) => c.close()));
    },
  };
}

test("a nats-server restarted while the round-1 checkpoint is written: the job goes on and keeps every checkpoint", async () => {
  const store = mkdtempSync(join(tmpdir(), "sfprompt-restart-"));
  const bundle = tinyBundle();
  let nats: LocalNats = await startLocalNats({ storeDir: join(store, "js") });
  const port = nats.port;
  let restarted: Promise<void> | undefined;
  let retrying!: () => void;
  const writeRetried = new Promise<void>((r) => (retrying = r));
  let job: Job | undefined;
  try {
    const config = jobConfig({ training: { rounds: 3, roundTimeoutSeconds: 30 } });
    job = await startJob(
      nats.url,
      config,
      bundle.dir,
      () => {},
      (line) => {
        // the round is aggregated and logged right before its checkpoint is written: kill the server
        // under that write, and start it again once the write has met the outage and waits to retry
        if (line.event === "store-write-retry") retrying();
        if (line.event !== "round-finished" || line.round !== 1 || restarted) return;
        const old = nats;
        process.kill(old.pid, "SIGKILL");
        restarted = (async () => {
          await old.stop();
          await Promise.race([writeRetried, job?.server.done.catch(() => undefined)]);
          nats = await startLocalNats({ storeDir: join(store, "js"), port });
        })();
      },
      1,
    );
    const result = await job.server.done;
    await restarted;
    assert.deepEqual(
      result.rounds.map((r) => r.round),
      [1, 2, 3],
    );
    assert.ok(
      job.logs.some((l) => l.event === "store-write-retry"),
      "a write of the job's progress met the restart and was retried",
    );
    const nc = await connect({ servers: nats.url });
    try {
      const artifacts = await openArtifactStore(nc, config.names.job);
      for (const round of [1, 2, 3]) {
        const bytes = await artifacts.get(checkpointObjectName(round));
        assert.ok(bytes !== null, `checkpoint of round ${round} is stored`);
        assert.equal(decodeParamSet(bytes).size, result.global.size);
      }
      const state = await (await openRoundState(nc, config.names.job)).get();
      assert.equal(state?.state.phase, "finished");
      assert.equal(state?.state.checkpoint, checkpointObjectName(3));
    } finally {
      await nc.close();
    }
  } finally {
    await job?.stop();
    await restarted?.catch(() => undefined);
    await nats.stop();
    bundle.remove();
    rmSync(store, { recursive: true, force: true });
  }
});

test("a JetStream store without room fails the job with JobStoreError naming the write, the limit and where it resumes", async () => {
  const bundle = tinyBundle();
  const nats = await startLocalNats({ maxFileStore: 12_000 });
  let job: Job | undefined;
  try {
    const config = jobConfig({ training: { rounds: 8, roundTimeoutSeconds: 30 } });
    const events: ProgressEvent[] = [];
    job = await startJob(nats.url, config, bundle.dir, (e) => events.push(e));
    const error = await job.server.done.then(
      () => new Error("the job finished, though it cannot fit in 12 kB of JetStream storage"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof JobStoreError, `got ${String(error)}`);
    assert.match(error.message, /JetStream has no room for it \(insufficient resources, code 10023\)/);
    assert.match(error.message, /max_file_store/);
    const failed = events.find((e) => e.type === "job.failed");
    assert.equal(failed?.type === "job.failed" && failed.reason, "JobStoreError");
    // the store has no room for the job.failed event either: its clients hear it live and stop
    let timer: NodeJS.Timeout | undefined;
    const outcomes = await Promise.race([
      Promise.all(job.clients),
      new Promise<null>((r) => (timer = setTimeout(() => r(null), 20_000))),
    ]);
    clearTimeout(timer);
    assert.ok(outcomes !== null, "the clients stopped after the job failed");
    for (const o of outcomes) {
      assert.ok(o instanceof JobFailedError, String(o));
      assert.equal(o.reason, "JobStoreError");
    }
    // the checkpoint the message promises to resume from is there, whole
    const hint = /resumes from (checkpoints\/round-\d+)/.exec(error.message);
    assert.ok(hint !== null, error.message);
    const nc = await connect({ servers: nats.url });
    try {
      const bytes = await (await openArtifactStore(nc, config.names.job)).get(hint[1]!);
      assert.ok(bytes !== null, `${hint[1]} is stored`);
      const loaded = PartitionBundle.load(bundle.dir);
      const init = loaded.initialParams();
      const initial = joinParams(init.prompt, init.tail);
      await loaded.release();
      // the global layout, trained away from the initial values
      const params = decodeParamSet(bytes, { expect: initial });
      assert.ok(!paramsAllClose(params, initial), "the checkpoint holds trained parameters");
    } finally {
      await nc.close();
    }
  } finally {
    await job?.stop();
    await nats.stop();
    bundle.remove();
  }
});
