// A server pod whose start fails for good, across the real parts: the operator (real kube-apiserver +
// etcd) renders the job's ConfigMap and Deployment, the server entry point runs as a real process with
// that Deployment's env and config against a real nats-server, and finds a checkpoint of another
// method. The job must end Failed with the server's reason, the Deployment at 0 replicas, and the
// process must stay up not-ready (a Deployment would restart it in a loop) until told to stop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jobToken } from "@sfprompt/api";
import { fetchEvents } from "@sfprompt/protocol";
import { waitFor } from "@sfprompt/kube-testing";
import { tinyBundle } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import type { Proc } from "../../../images/shell/test/harness.js";
import { RUN_CONFIG_KEY } from "../../src/desired/settings.js";
import { childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import { condition, createJob, operatorWorldHooks, waitForJob } from "./harness.js";
import { spawnRenderedServer, writeInitialCheckpoint } from "./rendered-server.js";

const w = operatorWorldHooks();

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: r.status, body: await r.text() };
}

test("a checkpoint of another method: the job is Failed naming spec.method and output.resume, the server scaled to 0, its process lingers not-ready", async () => {
  const name = "resume-mismatch";
  const bundle = tinyBundle();
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-start-failure-"));
  let proc: Proc | undefined;
  try {
    await createJob(
      w.world,
      jobManifest(name, {
        prompts: { length: 4 },
        clients: { count: 2 },
        training: { rounds: 2, evaluation: { maxSamples: 20 } },
        server: { executionProvider: "cpu" },
      }),
    );
    await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
    const names = childNames(name);
    const cm = await w.world.core.readNamespacedConfigMap({ name: names.configMap, namespace: "default" });
    const deployment = await w.world.apps.readNamespacedDeployment({
      name: names.deployment,
      namespace: "default",
    });
    assert.equal(deployment.spec!.replicas, 1, "the server is asked for while the job runs");

    // what an earlier run of the job under another method left in its artifacts bucket
    const token = jobToken("default", name);
    await writeInitialCheckpoint(w.nc, bundle.dir, {
      job: token,
      method: "fl-prompt",
      round: 1,
      history: [],
    });

    const configText = cm.data![RUN_CONFIG_KEY]!;
    proc = spawnRenderedServer(deployment, { configText, dir, bundleDir: bundle.dir });
    const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);

    const failed = await waitForJob(
      w.world,
      name,
      (j) => j.status?.phase === "Failed",
      `${name} Failed`,
      60_000,
    );
    const cond = condition(failed, "Failed")!;
    assert.equal(cond.reason, "ResumeMismatchError");
    assert.match(cond.message, /spec\.method/);
    assert.match(cond.message, /output\.resume: false/);
    // the server's advice is for a spec that can still change; this job's no longer can (ADR 0034)
    assert.match(cond.message, /stays Failed and ignores spec edits .*create a new job/);
    await waitFor(
      async () =>
        (await w.world.apps.readNamespacedDeployment({ name: names.deployment, namespace: "default" })).spec!
          .replicas === 0,
      { timeoutMs: 10_000, description: "the server Deployment scaled to 0" },
    );
    const events = await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${name},reason=ResumeMismatchError`,
    });
    assert.equal(events.items[0]?.type, "Warning", "the failure is a Warning event on the job");
    assert.match(events.items[0]!.message!, /spec\.method/);

    // the process: the failure logged naming the field, then up and not ready instead of exiting
    const line = await proc.waitForLog((l) => l.event === "runtime.failed");
    assert.equal(line.reason, "ResumeMismatchError");
    assert.equal(line.field, "spec.method");
    await proc.waitForLog((l) => l.event === "runtime.lingering");
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(proc.child.exitCode, null, `the server process is still up: ${proc.stderr()}`);
    assert.deepEqual(await readyz(port), {
      status: 503,
      body: "not ready: job failed: ResumeMismatchError\n",
    });
    const jobFailed = (await fetchEvents(w.nc, token, "test")).filter(
      (d) => d.ok && d.event.type === "job.failed",
    );
    assert.equal(jobFailed.length, 1, "one job.failed on the job's stream");

    // the kubelet's SIGTERM once the Deployment is at 0: the process ends, with the failure's code
    proc.kill("SIGTERM");
    const exit = await proc.exited;
    assert.equal(exit.code, 3, proc.stderr());
  } finally {
    proc?.kill("SIGKILL");
    bundle.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});
