// Which spec edits of a live job roll its server (ADR 0040), against a real kube-apiserver + etcd: an
// edit that no process reads (the clients' node selector, the TTL the operator alone uses) leaves the
// server Deployment's pod template, the Deployment's generation, the ConfigMap and the running client
// pods as they were; raising spec.training.rounds, which the server reads, rolls the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RunConfigSchema } from "@sfprompt/api";
import { waitFor } from "@sfprompt/kube-testing";
import { RUN_CONFIG_KEY } from "../../src/desired/settings.js";
import { ANNOTATION_CONFIG_HASH, childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import {
  createJob,
  patchJobSpec,
  podNames,
  setPodPhase,
  waitForJob,
  worldHooks,
  type World,
} from "./harness.js";

const w = worldHooks();
const NAME = "edits";
const names = childNames(NAME);

/** What a rollout would show: the server's template and generation, the ConfigMap, the client pods. */
async function children(world: World) {
  const [d, cm, pods] = await Promise.all([
    world.apps.readNamespacedDeployment({ name: names.deployment, namespace: "default" }),
    world.core.readNamespacedConfigMap({ name: names.configMap, namespace: "default" }),
    world.core.listNamespacedPod({ namespace: "default", labelSelector: `sfprompt.io/job=${NAME}` }),
  ]);
  return {
    deploymentGeneration: d.metadata!.generation,
    hash: d.spec!.template.metadata!.annotations![ANNOTATION_CONFIG_HASH],
    template: JSON.stringify(d.spec!.template),
    configMapVersion: cm.metadata!.resourceVersion,
    rounds: RunConfigSchema.parse(JSON.parse(cm.data![RUN_CONFIG_KEY]!)).training.rounds,
    pods: pods.items.map((p) => `${p.metadata!.name}/${p.metadata!.uid}`).sort(),
  };
}

/** Edits the spec as kubectl would and waits for the operator to have reconciled that generation. */
async function edit(world: World, spec: Record<string, unknown>): Promise<void> {
  await patchJobSpec(world, NAME, spec);
  await waitForJob(
    world,
    NAME,
    (j) => j.metadata?.generation === j.status?.observedGeneration,
    `the edit ${JSON.stringify(spec)} reconciled`,
  );
}

test("an edit no process reads rolls nothing; raising spec.training.rounds rolls the server", async () => {
  await createJob(
    w.world,
    jobManifest(NAME, {
      clients: { count: 2 },
      training: { rounds: 4 },
      server: { executionProvider: "cpu" },
    }),
  );
  const pods = await waitFor(
    async () => {
      const p = await podNames(w.world, NAME);
      return p.length === 2 ? p : undefined;
    },
    { timeoutMs: 15_000, description: "2 client pods" },
  );
  // started by a kubelet: a running pod is not replaced for a spec change (only a Pending one is)
  for (const p of pods) await setPodPhase(w.world, p, "Running");
  await waitForJob(w.world, NAME, (j) => j.status?.observedGeneration === 1, "generation 1 reconciled");
  const before = await children(w.world);

  const harmless: { name: string; spec: Record<string, unknown> }[] = [
    { name: "the clients' node selector", spec: { clients: { nodeSelector: { site: "plant-2" } } } },
    { name: "ttlSecondsAfterFinished (the operator's own)", spec: { ttlSecondsAfterFinished: 600 } },
  ];
  for (const h of harmless) {
    await edit(w.world, h.spec);
    // a moment longer, for the reconcile that the status write itself triggers
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await children(w.world), before, `after an edit of ${h.name}: nothing rolled`);
  }

  await edit(w.world, { training: { rounds: 6 } });
  const after = await waitFor(
    async () => {
      const c = await children(w.world);
      return c.rounds === 6 ? c : undefined;
    },
    { timeoutMs: 10_000, description: "the ConfigMap with 6 rounds" },
  );
  assert.notEqual(after.hash, before.hash, "the server's pod template carries the new config's digest");
  assert.ok(
    after.deploymentGeneration! > before.deploymentGeneration!,
    "the Deployment's spec changed (a rollout)",
  );
  assert.deepEqual(after.pods, before.pods, "running client pods stay (they get it when next created)");
});
