// The client entry point as a real child process against a real nats-server: it loads its shard and
// becomes ready while waiting for a server, carries its client name in logs and metrics, survives
// a message that is no event, refuses a missing or out-of-range index, and drains NATS and exits 0
// on SIGTERM.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { eventSubject } from "@sfprompt/protocol";
import {
  ENTRY,
  connectionNames,
  get,
  metricFamilies,
  runConfig,
  sample,
  spawnEntry,
  until,
  useEntryFixtures,
} from "../../shell/test/harness.js";

const w = useEntryFixtures({ monitoring: true });

/** The env the operator gives client pod `index` (operator/src/desired/client-pod.ts). */
function clientEnv(configPath: string, name: string, index: string): Record<string, string> {
  const c = runConfig({}, name);
  return {
    SFPROMPT_JOB: name,
    SFPROMPT_NAMESPACE: "test",
    SFPROMPT_SUBJECT_PREFIX: c.names.subjectPrefix,
    SFPROMPT_RUN_CONFIG: configPath,
    NATS_URL: w.nats.url,
    SFPROMPT_CLIENT_INDEX: index,
    SFPROMPT_CLIENT_COUNT: String(c.clients.count),
    SFPROMPT_DATA_SOURCE: "builtin:fashion-mnist",
    SFPROMPT_RESTART_ATTEMPT: "0",
    NODE_NAME: "edge-1",
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_GRACE_SECONDS: "10",
    SFPROMPT_BUNDLE_DIR: w.bundle.dir,
  };
}

describe("the client process", () => {
  test("becomes ready while waiting for the server, reports its name, and drains NATS and exits 0 on SIGTERM", async () => {
    const name = "cli-life";
    const config = runConfig({}, name);
    const path = w.tmp.write(`${name}.json`, JSON.stringify(config));
    const proc = spawnEntry(ENTRY.client, [], clientEnv(path, name, "1"));
    try {
      const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
      assert.equal((await get(port, "/healthz")).status, 200);
      await until(
        async () => ((await get(port, "/readyz")).status === 200 ? true : undefined),
        60_000,
        "/readyz 200",
      );
      const data = await proc.waitForLog((l) => l.event === "client.data");
      assert.equal(data.samples, 32, "samplesPerClient caps the shard");
      const metrics = (await get(port, "/metrics")).body;
      assert.equal(metricFamilies(metrics).get("sfprompt_rounds_done_total"), "counter");
      // the job's namespace and name, as on the operator's series, not the data-plane token
      const info = `sfprompt_process_info{role="client",namespace="${config.job.namespace}",sfprompt_job="${config.job.name}",client="client-1"}`;
      assert.equal(sample(metrics, info), 1);
      assert.deepEqual(await connectionNames(w.nats.monitorUrl!, "sfprompt-client-"), [
        `sfprompt-client-1-${config.names.job}`,
      ]);

      // a message on the job-end subject that is no event is counted and logged, never fatal
      const nc = await connect({ servers: w.nats.url });
      try {
        nc.publish(eventSubject(config.names.job, "job.failed"), "not an event");
        await nc.flush();
      } finally {
        await nc.close();
      }
      await proc.waitForLog((l) => l.event === "event.invalid");
      const after = (await get(port, "/metrics")).body;
      assert.equal(sample(after, 'sfprompt_bad_messages_total{reason="event-schema"}'), 1);
      assert.equal((await get(port, "/healthz")).status, 200);

      proc.kill("SIGTERM");
      const exit = await proc.exited;
      // 0, not 4 (EXIT.forced): it drained and exited within its 10 s grace period. The grace timer is
      // the bound; a stopwatch here would only add a false failure on a loaded machine.
      assert.equal(exit.code, 0, proc.stderr());
      assert.ok(!proc.logs.some((l) => l.event === "shutdown.forced"), "not forced");
      assert.ok(proc.logs.some((l) => l.event === "nats.drained"));
      assert.deepEqual(await connectionNames(w.nats.monitorUrl!, "sfprompt-client-"), []);
      assert.deepEqual(proc.nonJson, []);
      const start = proc.logs.find((l) => l.event === "process.starting")!;
      assert.equal(start.node, "edge-1");
      assert.equal(start.restartAttempt, 0);
      for (const l of proc.logs) {
        assert.equal(l.job, config.names.job, `${l.event} carries the job`);
        assert.equal(l.client, "client-1", `${l.event} carries the client`);
      }
    } finally {
      proc.kill("SIGKILL");
    }
  });

  test("refuses a missing or out-of-range client index with exit code 1, naming it", async () => {
    const name = "cli-bad";
    const path = w.tmp.write(`${name}.json`, JSON.stringify(runConfig({}, name)));
    const cases = [
      { index: "", names: /"setting":"--client-index \/ SFPROMPT_CLIENT_INDEX"/ },
      { index: "-1", names: /"setting":"--client-index \/ SFPROMPT_CLIENT_INDEX"/ },
      {
        index: "2",
        names: /"field":"spec\.clients\.count","runConfigField":"clients\.count".*client index 2/,
      },
    ];
    await Promise.all(
      cases.map(async (c) => {
        const proc = spawnEntry(ENTRY.client, [], clientEnv(path, name, c.index));
        const exit = await proc.exited;
        assert.equal(exit.code, 1, `index "${c.index}": ${proc.stderr()}`);
        assert.match(JSON.stringify(proc.logs.find((l) => l.event === "config.invalid")), c.names);
      }),
    );
  });

  test("stops with exit code 5 and says why when its server reports the job failed", async () => {
    const name = "cli-failed";
    const config = runConfig({}, name);
    const path = w.tmp.write(`${name}.json`, JSON.stringify(config));
    const proc = spawnEntry(ENTRY.client, [], clientEnv(path, name, "0"));
    try {
      await proc.waitForLog((l) => l.event === "runtime.ready");
      await proc.waitForLog((l) => l.event === "server-unreachable");
      // what a failing server publishes (its stream may have no room to keep it: this goes out live)
      const nc = await connect({ servers: w.nats.url });
      try {
        const event = {
          v: 1,
          job: config.names.job,
          at: new Date().toISOString(),
          type: "job.failed",
          reason: "JobStoreError",
          message: "checkpoint of round 1: no room",
        };
        nc.publish(eventSubject(config.names.job, "job.failed"), JSON.stringify(event));
        await nc.flush();
      } finally {
        await nc.close();
      }
      const exit = await proc.exited;
      assert.equal(exit.code, 5, proc.stderr());
      const line = proc.logs.find((l) => l.event === "job-failed");
      assert.equal(line?.level, "error");
      assert.equal(line.reason, "JobStoreError");
      assert.equal(proc.logs.find((l) => l.event === "process.exit")?.code, 5);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
