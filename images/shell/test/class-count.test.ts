// The server and client entry points on a job whose data has more classes than
// spec.classes.numClasses (Fashion-MNIST's 10 against 5), against a real nats-server: each fails at
// start-up, before it reports ready, with the message `sfprompt run` gives (the field, the label found,
// what to do), instead of a client's TrainingArgumentError in its first round.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { fetchEvents } from "@sfprompt/protocol";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();

const MESSAGE =
  /^spec\.classes\.numClasses: is 5, but spec\.data\.source \(builtin: fashion-mnist\) holds label 9 \("Ankle boot"\), of 10 classes: the classifier predicts labels 0\.\.4 only; set numClasses to 10 \(or more\), or use data whose labels are below 5$/;

/** A job of 5 classes on Fashion-MNIST, as the operator gives it to a process, and its env. */
function fiveClasses(name: string, env: Record<string, string>): Record<string, string> {
  const config = runConfig({ classes: { numClasses: 5 } }, name);
  return {
    SFPROMPT_RUN_CONFIG: w.tmp.write(`${name}.json`, JSON.stringify(config)),
    NATS_URL: w.nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_BUNDLE_DIR: w.bundle.dir,
    ...env,
  };
}

test("a client exits 1 at start-up, naming spec.classes.numClasses and the label its data holds", async () => {
  const env = fiveClasses("classes-client", { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_CLIENT_COUNT: "2" });
  const proc = spawnEntry(ENTRY.client, [], env);
  try {
    const line = await proc.waitForLog((l) => l.event === "config.invalid", 60_000);
    assert.equal((await proc.exited).code, 1, proc.stderr());
    assert.equal(line.field, "spec.classes.numClasses");
    assert.match(String(line.error), MESSAGE);
    assert.ok(!proc.logs.some((l) => l.event === "runtime.ready"), "it never reported ready");
  } finally {
    proc.kill("SIGKILL");
  }
});

test("a server fails the job at start-up with the same message, before it reports ready", async () => {
  const name = "classes-server";
  const proc = spawnEntry(ENTRY.server, [], fiveClasses(name, { SFPROMPT_LINGER_AFTER_FINISH: "true" }));
  try {
    const line = await proc.waitForLog((l) => l.event === "config.invalid", 60_000);
    assert.deepEqual([line.field, line.jobFailed], ["spec.classes.numClasses", true]);
    assert.match(String(line.error), MESSAGE);
    assert.ok(!proc.logs.some((l) => l.event === "runtime.ready"), "it never reported ready");
    const nc = await connect({ servers: w.nats.url });
    try {
      const job = runConfig({}, name).names.job;
      const failed = (await fetchEvents(nc, job, "test")).flatMap((d) =>
        d.ok && d.event.type === "job.failed" ? [d.event] : [],
      );
      assert.equal(failed.length, 1, "the job's stream says it failed");
      assert.match(failed[0]!.message, MESSAGE);
    } finally {
      await nc.close();
    }
  } finally {
    proc.kill("SIGKILL");
  }
});
