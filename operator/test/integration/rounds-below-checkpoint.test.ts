// spec.training.rounds lowered below a running job's newest checkpoint, with no webhook in front
// (ADR 0039), across the real parts: the operator (real kube-apiserver + etcd) holds the edit, its
// server Deployment and ConfigMap stay as they were, the job says why (SpecRejected, a Warning event
// naming the field) and is not Failed; the server entry point, run as a real process with the run
// config the operator kept against a real nats-server, resumes from the checkpoint; a fixed spec is
// applied.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunConfigSchema, jobToken } from "@sfprompt/api";
import { checkpointSpec } from "@sfprompt/core";
import { publishEvent } from "@sfprompt/protocol";
import { waitFor } from "@sfprompt/kube-testing";
import { tinyBundle } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import type { Proc } from "../../../images/shell/test/harness.js";
import { RUN_CONFIG_KEY } from "../../src/desired/settings.js";
import { ANNOTATION_CONFIG_HASH, childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import { condition, createJob, operatorWorldHooks, patchJobSpec, waitForJob } from "./harness.js";
import { spawnRenderedServer, writeInitialCheckpoint } from "./rendered-server.js";

const w = operatorWorldHooks();

test("rounds lowered below the checkpointed round: the edit is held (SpecRejected, a Warning), the server keeps a config it resumes under, a fixed spec is applied", async () => {
  const name = "held-rounds";
  const names = childNames(name);
  const bundle = tinyBundle();
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-held-rounds-"));
  let proc: Proc | undefined;
  const children = async () => {
    const [cm, d] = await Promise.all([
      w.world.core.readNamespacedConfigMap({ name: names.configMap, namespace: "default" }),
      w.world.apps.readNamespacedDeployment({ name: names.deployment, namespace: "default" }),
    ]);
    const config = RunConfigSchema.parse(JSON.parse(cm.data![RUN_CONFIG_KEY]!));
    return {
      text: cm.data![RUN_CONFIG_KEY]!,
      config,
      deployment: d,
      hash: d.spec!.template.metadata!.annotations![ANNOTATION_CONFIG_HASH],
    };
  };
  try {
    await createJob(
      w.world,
      jobManifest(name, {
        prompts: { length: 4 },
        clients: { count: 2 },
        training: { rounds: 4, evaluation: { maxSamples: 20 } },
        server: { executionProvider: "cpu" },
      }),
    );
    await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
    const before = await children();

    // what the job's server left after round 3: its checkpoint, and the event that announced it
    const token = jobToken("default", name);
    const info = await writeInitialCheckpoint(w.nc, bundle.dir, {
      job: token,
      method: before.config.method,
      round: 3,
      history: [],
      spec: checkpointSpec(before.config),
      attempt: "first",
    });
    await publishEvent(w.nc, {
      v: 1,
      job: token,
      at: new Date().toISOString(),
      attempt: "first",
      type: "checkpoint.written",
      round: 3,
      bucket: `sfp-${token}-artifacts`,
      object: info.name,
      size: info.size,
    });
    await waitForJob(
      w.world,
      name,
      (j) => (j.status?.lastCheckpoint as { round?: number } | undefined)?.round === 3,
      "the checkpoint of round 3 in the status",
    );

    // kubectl edit: 4 → 2 rounds, below the checkpoint's round 3
    await patchJobSpec(w.world, name, { training: { rounds: 2 } });
    const held = await waitForJob(
      w.world,
      name,
      (j) => condition(j, "SpecRejected")?.status === "True",
      "the edit held",
    );
    const cond = condition(held, "SpecRejected")!;
    assert.equal(cond.reason, "RoundsBelowCheckpoint");
    assert.match(cond.message, /^spec\.training\.rounds 2 is below round 3 of the job's newest checkpoint/);
    assert.match(
      cond.message,
      /goes on with spec\.training\.rounds 4; set spec\.training\.rounds to 3 or more/,
    );
    assert.match(cond.message, /spec\.output\.resume: false/);
    assert.notEqual(held.status?.phase, "Failed");
    assert.equal(held.status?.rounds, 4, "status.rounds: the rounds the job goes on with");
    const events = await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${name},reason=SpecRejected`,
    });
    assert.equal(events.items.length, 1);
    assert.equal(events.items[0]!.type, "Warning");
    assert.match(events.items[0]!.message!, /spec\.training\.rounds 2 is below round 3/);
    // a resync later: nothing rolled, not even for the new generation the edit made
    await new Promise((r) => setTimeout(r, 1500));
    const kept = await children();
    assert.equal(kept.text, before.text, "the ConfigMap is as it was");
    assert.equal(kept.hash, before.hash, "the server Deployment does not roll");

    // the server, given the config the operator kept, resumes from the checkpoint of round 3
    proc = spawnRenderedServer(kept.deployment, { configText: kept.text, dir, bundleDir: bundle.dir });
    const resumed = await proc.waitForLog((l) => l.event === "resumed" || l.event === "runtime.failed");
    assert.equal(resumed.event, "resumed", proc.stderr());
    assert.equal(resumed.round, 3);
    proc.kill("SIGTERM");
    await proc.exited;
    proc = undefined;

    // the fix: rounds 3 (stop after the checkpointed round) is applied
    await patchJobSpec(w.world, name, { training: { rounds: 3 } });
    const fixed = await waitForJob(
      w.world,
      name,
      (j) => condition(j, "SpecRejected")?.status === "False",
      "the fixed spec applied",
    );
    assert.equal(condition(fixed, "SpecRejected")!.reason, "SpecApplied");
    assert.equal(fixed.status?.rounds, 3);
    const after = await waitFor(
      async () => {
        const c = await children();
        return c.config.training.rounds === 3 ? c : undefined;
      },
      { timeoutMs: 10_000, description: "the ConfigMap with 3 rounds" },
    );
    assert.notEqual(after.hash, before.hash, "the server rolls to the fixed config");
  } finally {
    proc?.kill("SIGKILL");
    bundle.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});
