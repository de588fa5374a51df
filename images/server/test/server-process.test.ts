// The server entry point as a real child process against a real nats-server: endpoints, metrics,
// JSON logs, configuration errors, an unreachable NATS, and SIGTERM with the connection drained.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import yaml from "js-yaml";
import { connect } from "@nats-io/transport-node";
import { jobSubjects, parseChunk } from "@sfprompt/protocol";
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

const EXPECTED_FAMILIES: Record<string, string> = {
  sfprompt_process_info: "gauge",
  sfprompt_ready: "gauge",
  sfprompt_nats_connected: "gauge",
  sfprompt_nats_rtt_seconds: "gauge",
  sfprompt_rounds_done_total: "counter",
  sfprompt_round: "gauge",
  sfprompt_loss: "gauge",
  sfprompt_accuracy: "gauge",
  sfprompt_job_bytes_total: "counter",
  sfprompt_process_bytes_total: "counter",
  sfprompt_request_duration_seconds: "histogram",
  sfprompt_bad_messages_total: "counter",
  sfprompt_errors_total: "counter",
};

const w = useEntryFixtures({ monitoring: true });

/** The env the operator gives the server container (operator/src/desired), pointed at this test. */
function operatorEnv(configPath: string, name: string): Record<string, string> {
  const c = runConfig({}, name);
  return {
    SFPROMPT_JOB: name,
    SFPROMPT_NAMESPACE: "test",
    SFPROMPT_SUBJECT_PREFIX: c.names.subjectPrefix,
    SFPROMPT_RUN_CONFIG: configPath,
    NATS_URL: w.nats.url,
    SFPROMPT_EXECUTION_PROVIDER: "cpu",
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_GRACE_SECONDS: "10",
    SFPROMPT_BUNDLE_DIR: w.bundle.dir,
  };
}

describe("the server process", () => {
  test("answers /healthz, becomes ready, serves the metric families, and drains NATS and exits 0 on SIGTERM", async () => {
    const name = "srv-life";
    const config = runConfig({}, name);
    const path = w.tmp.write(`${name}.json`, JSON.stringify(config, null, 2));
    const proc = spawnEntry(ENTRY.server, [], operatorEnv(path, name));
    try {
      const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
      const health = await get(port, "/healthz");
      assert.equal(health.status, 200);
      assert.equal(health.body, "ok\n");
      await until(
        async () => ((await get(port, "/readyz")).status === 200 ? true : undefined),
        30_000,
        "/readyz 200",
      );
      const connName = `sfprompt-server-${config.names.job}`;
      assert.deepEqual(await connectionNames(w.nats.monitorUrl!, "sfprompt-server-"), [connName]);

      const metrics = await get(port, "/metrics");
      assert.equal(metrics.status, 200);
      assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
      const families = metricFamilies(metrics.body);
      for (const [family, type] of Object.entries(EXPECTED_FAMILIES))
        assert.equal(families.get(family), type, family);
      assert.equal(
        sample(
          metrics.body,
          `sfprompt_process_info{role="server",namespace="${config.job.namespace}",sfprompt_job="${config.job.name}"}`,
        ),
        1,
      );
      assert.equal(sample(metrics.body, "sfprompt_ready"), 1);
      assert.equal(sample(metrics.body, "sfprompt_nats_connected"), 1);
      assert.ok(sample(metrics.body, "sfprompt_nats_rtt_seconds")! >= 0, "an rtt sample");

      // a malformed frame on the body service gets an error reply and the process stays ready
      const nc = await connect({ servers: w.nats.url });
      try {
        // readiness comes just before runServer subscribes its services (no ready hook yet): retry
        const subject = jobSubjects(config.names.job).bodyForward;
        const bad = new Uint8Array([1, 2, 3]);
        const reply = await until(() => nc.request(subject, bad, { timeout: 10_000 }), 30_000, "a reply");
        const header = parseChunk(reply.data).header;
        assert.equal(header.type, "error");
        assert.equal(typeof header.meta.code, "string");
      } finally {
        await nc.close();
      }
      assert.equal((await get(port, "/readyz")).status, 200, "still ready after a bad frame");

      proc.kill("SIGTERM");
      const exit = await proc.exited;
      // 0, not 4 (EXIT.forced): it drained and exited within its 10 s grace period. The grace timer is
      // the bound; a stopwatch here would only add a false failure on a loaded machine.
      assert.equal(exit.code, 0, proc.stderr());
      const events = proc.logs.map((l) => l.event);
      assert.ok(!events.includes("shutdown.forced"), `not forced: ${events.join(", ")}`);
      for (const e of [
        "process.starting",
        "nats.connected",
        "runtime.ready",
        "shutdown.started",
        "nats.drained",
        "process.exit",
      ]) {
        assert.ok(events.includes(e), `log has ${e}: ${events.join(", ")}`);
      }
      assert.ok(events.indexOf("nats.drained") > events.indexOf("shutdown.started"));
      assert.deepEqual(await connectionNames(w.nats.monitorUrl!, "sfprompt-server-"), []);
      assert.deepEqual(proc.nonJson, [], "every stdout line is JSON");
      for (const l of proc.logs) {
        assert.equal(l.job, config.names.job, `${l.event} carries the job`);
        assert.equal(typeof l.at, "string");
        assert.ok(["debug", "info", "warn", "error"].includes(l.level));
      }
    } finally {
      proc.kill("SIGKILL");
    }
  });

  const bad = runConfig({}, "srv-bad");
  const cases: {
    name: string;
    file?: [string, string];
    env?: Record<string, string>;
    args?: string[];
    names: RegExp;
  }[] = [
    {
      name: "a run config with rounds 0 names spec.training.rounds, and training.rounds beside it",
      file: ["rounds.json", JSON.stringify({ ...bad, training: { ...bad.training, rounds: 0 } })],
      names: /"field":"spec\.training\.rounds","runConfigField":"training\.rounds"/,
    },
    {
      name: "a job manifest with an unknown field names it under spec",
      file: [
        "job.yaml",
        yaml.dump({
          apiVersion: "sfprompt.io/v1alpha1",
          kind: "SFPromptJob",
          metadata: { name: "srv-bad" },
          spec: { training: { roundz: 1 } },
        }),
      ],
      names: /"field":"spec\.training\.roundz"/,
    },
    {
      name: "a config of another job (SFPROMPT_JOB differs) names metadata.name, and job.name beside it",
      file: ["other.json", JSON.stringify(runConfig({}, "another-job"))],
      names: /"field":"metadata\.name","runConfigField":"job\.name".*SFPROMPT_JOB/,
    },
    {
      name: "a file that is not YAML names the file",
      file: ["broken.yaml", "a: [1,\n"],
      names: /"field":"\(file\)"/,
    },
    {
      name: "no config at all names --config",
      env: { SFPROMPT_RUN_CONFIG: "" },
      names: /"setting":"--config \/ SFPROMPT_CONFIG"/,
    },
    {
      name: "a model file that is not mounted names spec.model.source.path",
      file: [
        "nomodel.json",
        JSON.stringify(runConfig({ model: { source: { path: "/nonexistent/model.onnx" } } }, "srv-bad")),
      ],
      env: { SFPROMPT_BUNDLE_DIR: "" },
      names: /"field":"spec\.model\.source\.path"/,
    },
    {
      name: "a method the images do not run names spec.method",
      file: ["centralized.json", JSON.stringify(runConfig({ method: "centralized" }, "srv-bad"))],
      names: /"field":"spec\.method".*sfprompt run/,
    },
    {
      name: "a port that is not a number names --http-port",
      file: ["port.json", JSON.stringify(bad)],
      args: ["--http-port", "80a"],
      names: /"setting":"--http-port \/ SFPROMPT_HTTP_PORT"/,
    },
    {
      name: "an unknown flag is refused",
      file: ["flag.json", JSON.stringify(bad)],
      args: ["--nats", "x"],
      names: /"setting":"command line"/,
    },
  ];
  test("refuses a bad configuration with exit code 1 and a log line naming the field", async () => {
    await Promise.all(
      cases.map(async (c) => {
        const path = c.file ? w.tmp.write(c.file[0], c.file[1]) : "";
        const proc = spawnEntry(ENTRY.server, c.args ?? [], { ...operatorEnv(path, "srv-bad"), ...c.env });
        const exit = await proc.exited;
        assert.equal(exit.code, 1, `${c.name}: ${proc.stderr()}`);
        const line = proc.logs.find((l) => l.event === "config.invalid");
        assert.ok(line, `${c.name}: a config.invalid line`);
        assert.match(JSON.stringify(line), c.names, c.name);
        assert.equal(line.level, "error");
      }),
    );
  });

  test("exits 2 when NATS cannot be reached within the connect timeout", async () => {
    const name = "srv-nonats";
    const path = w.tmp.write(`${name}.json`, JSON.stringify(runConfig({}, name)));
    const env = {
      ...operatorEnv(path, name),
      NATS_URL: "nats://127.0.0.1:1",
      SFPROMPT_CONNECT_TIMEOUT_SECONDS: "2",
    };
    const proc = spawnEntry(ENTRY.server, [], env);
    const exit = await proc.exited;
    assert.equal(exit.code, 2, proc.stderr());
    assert.ok(proc.logs.some((l) => l.event === "nats.unreachable" && l.url === "nats://127.0.0.1:1"));
  });

  test("stops with exit code 0 when SIGTERM comes while it is still trying to reach NATS", async () => {
    const name = "srv-waiting";
    const path = w.tmp.write(`${name}.json`, JSON.stringify(runConfig({}, name)));
    const env = {
      ...operatorEnv(path, name),
      NATS_URL: "nats://127.0.0.1:1",
      SFPROMPT_CONNECT_TIMEOUT_SECONDS: "120",
    };
    const proc = spawnEntry(ENTRY.server, [], env);
    try {
      const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
      await proc.waitForLog((l) => l.event === "nats.connect.retry");
      assert.equal((await get(port, "/healthz")).status, 200, "alive while NATS is away");
      const ready = await get(port, "/readyz");
      assert.deepEqual([ready.status, ready.body], [503, "not ready: connecting to NATS\n"]);
      proc.kill("SIGTERM");
      const exit = await proc.exited;
      // 0, not 4 (EXIT.forced) nor 2 (EXIT.nats): SIGTERM cut the connect retries short, within the
      // 10 s grace period and long before the 120 s connect timeout. Had the retries gone on, the grace
      // timer would have forced exit 4; no stopwatch needed (a 5 s one failed on a loaded machine).
      assert.equal(exit.code, 0, proc.stderr());
      const events = proc.logs.map((l) => l.event);
      for (const e of ["shutdown.forced", "nats.unreachable"])
        assert.ok(!events.includes(e), `no ${e}: ${events.join(", ")}`);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
