// A job applied to the cluster whose model has an op the engine cannot differentiate, across the real
// parts: the operator (real kube-apiserver + etcd) renders the job's ConfigMap and Deployment, and the
// server entry point runs as a real process with that Deployment's env and config against a real
// nats-server, with no prepared bundle (as in a pod: it prepares one from spec.model.source and
// builds its gradient graphs). It exited with the engine's "no gradient rule for op Sin …; add a rule
// in packages/engine/src/autodiff/rules" (runtime.failed, exit 3), which a Deployment restarts in a
// loop, so the job stayed Pending with ServerReady saying "CrashLoopBackOff … exit code 3" and
// nothing of the op. Now the job is Failed naming the field, the node, its op and what to do (as
// sfprompt validate says it), and the server lingers (ADR 0023, amendment 31).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { jobToken } from "@sfprompt/api";
import { writeModel } from "@sfprompt/engine";
import { fetchEvents } from "@sfprompt/protocol";
import { tinyVit } from "../../../packages/sfprompt/test/runtime/tiny-vit.js";
import type { Proc } from "../../../images/shell/test/harness.js";
import { RUN_CONFIG_KEY } from "../../src/desired/settings.js";
import { childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import { condition, createJob, operatorWorldHooks, waitForJob } from "./harness.js";
import { spawnRenderedServer } from "./rendered-server.js";

const w = operatorWorldHooks();

test("a model with an op that has no gradient rule: the job is Failed naming spec.model.source.path, the node and its op; the server lingers", async () => {
  const name = "no-grad-rule";
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-no-grad-rule-"));
  let proc: Proc | undefined;
  try {
    // the tiny ViT (2 blocks) with its second block's GELU Erf made a Sin, an op with no gradient rule
    const model = tinyVit();
    const erf = model.graph.nodes.find((n) => n.opType === "Erf" && n.name.startsWith("/blocks.1/"));
    assert.ok(erf !== undefined, "the tiny ViT's second block has an Erf");
    erf.opType = "Sin";
    const path = join(dir, "sin.onnx");
    writeModel(path, model);
    await createJob(
      w.world,
      jobManifest(name, {
        model: { source: { path }, split: { headBlocks: 1 } },
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
    proc = spawnRenderedServer(deployment, { configText: cm.data![RUN_CONFIG_KEY]!, dir });

    const failed = await waitForJob(
      w.world,
      name,
      (j) => j.status?.phase === "Failed",
      `${name} Failed`,
      120_000,
    );
    const cond = condition(failed, "Failed")!;
    assert.equal(cond.reason, "JobInputError");
    const said = `spec.model.source.path: ${path}: node "${erf.name}" is a Sin, an op the engine cannot differentiate, in the body as spec.model.split cuts the model`;
    assert.ok(cond.message.startsWith(said), cond.message);
    // what to do: which ops the engine differentiates; a rule is the engine's change, not the job's
    assert.match(cond.message, /The ops the engine differentiates \(docs\/gradients\.md/);
    assert.match(cond.message, /is a change to sfprompt's engine, not to the job/);
    assert.doesNotMatch(cond.message, /add a rule in packages\/engine/);
    assert.match(cond.message, /stays Failed and ignores spec edits .*create a new job/);
    const events = await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${name},reason=JobInputError`,
    });
    assert.equal(events.items[0]?.type, "Warning", "the failure is a Warning event on the job");
    assert.ok(events.items[0]!.message!.startsWith(said), events.items[0]!.message);

    // the process: the refusal logged under the field, one job.failed, then up instead of exiting
    const line = await proc.waitForLog((l) => l.event === "config.invalid" || l.event === "runtime.failed");
    assert.deepEqual(
      [line.event, line.field, line.jobFailed],
      ["config.invalid", "spec.model.source.path", true],
    );
    await proc.waitForLog((l) => l.event === "runtime.lingering");
    const jobFailed = (await fetchEvents(w.nc, jobToken("default", name), "test")).filter(
      (d) => d.ok && d.event.type === "job.failed",
    );
    assert.equal(jobFailed.length, 1, "one job.failed on the job's stream");
    assert.equal(proc.child.exitCode, null, `the server process is still up: ${proc.stderr()}`);
    proc.kill("SIGTERM");
    assert.equal((await proc.exited).code, 1, proc.stderr());
  } finally {
    proc?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
