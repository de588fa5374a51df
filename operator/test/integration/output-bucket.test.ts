// spec.output.bucket is fixed at creation (ADR 0045, third amendment): the API server refuses an
// edit of it, and the finalizer deletes the job's default bucket whatever the spec names now, so a
// job whose bucket was set after it ran (under a CRD from before the rule) loses no leftover bucket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { buildCrd, GROUP, natsNames, PLURAL, VERSION } from "@sfprompt/api";
import {
  checkpointObjectName,
  claimBucket,
  ensureJobResources,
  jobStreamNames,
  openExistingArtifactStore,
} from "@sfprompt/protocol";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import { createJob, getJob, operatorWorldHooks, patchJobSpec, waitForJob, type World } from "./harness.js";

const w = operatorWorldHooks();

async function streams(): Promise<string[]> {
  const jsm = await jetstreamManager(w.nc);
  const names: string[] = [];
  for await (const n of jsm.streams.names()) names.push(n);
  return names;
}

function isBucketRule(rule: { rule: string }): boolean {
  return rule.rule.includes("oldSelf.bucket");
}

/** The generated CRD without the rule fixing spec.output.bucket: the CRD before this change. */
async function installCrdWithoutBucketRule(world: World): Promise<void> {
  const crd = buildCrd() as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: SpecNode } } } }[] };
  };
  const output = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.output;
  output["x-kubernetes-validations"] = output["x-kubernetes-validations"]!.filter((r) => !isBucketRule(r));
  await kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager=sfprompt-test", "-f", "-"],
    world.cp.kubeconfigPath,
    { input: JSON.stringify(crd) },
  );
}

interface SpecNode {
  properties: { output: { "x-kubernetes-validations"?: { rule: string }[] } };
}

async function expectRefused(name: string, spec: Record<string, unknown>): Promise<string> {
  return patchJobSpec(w.world, name, spec).then(
    () => assert.fail("the API server accepted the edit"),
    (e: { body?: string }) => (JSON.parse(e.body ?? "{}") as { message?: string }).message ?? "",
  );
}

test("the API server refuses setting spec.output.bucket on a job, naming the field and saying to create a new job", async () => {
  await createJob(w.world, jobManifest("fixed-bucket", { clients: { count: 1 } }));
  const message = await expectRefused("fixed-bucket", { output: { bucket: "later-ckpts" } });
  assert.match(message, /spec\.output\.bucket: Forbidden: field is immutable/);
  assert.match(message, /create a new job/);
  const stored = await getJob(w.world, "fixed-bucket");
  assert.equal((stored?.spec?.output as { bucket?: string } | undefined)?.bucket, undefined);
});

test("a job whose spec.output.bucket was set after it ran with its default bucket has the default bucket deleted with it; the named bucket is kept", async () => {
  const name = "late-bucket";
  const bucket = "late-ckpts";
  await createJob(w.world, jobManifest(name, { clients: { count: 1 } }));
  await waitForJob(
    w.world,
    name,
    (j) => (j.metadata?.finalizers ?? []).includes("sfprompt.io/nats-cleanup"),
    "finalizer added",
  );
  // The job ran with its default bucket: marked as its own, with a checkpoint.
  const defaults = natsNames("default", name);
  const { artifacts } = await ensureJobResources(w.nc, defaults);
  assert.deepEqual(await claimBucket(artifacts, defaults.job), { kind: "claimed" });
  await artifacts.put(checkpointObjectName(1), new Uint8Array([1, 2, 3]));
  // Under a CRD from before the rule the edit went through (the new CRD takes a moment to apply).
  await installCrdWithoutBucketRule(w.world);
  await waitFor(
    async () =>
      patchJobSpec(w.world, name, { output: { bucket } }).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 20_000, intervalMs: 250, description: "the CRD without the bucket rule to apply" },
  );
  await waitForJob(
    w.world,
    name,
    (j) => j.status?.observedGeneration === j.metadata?.generation && j.metadata?.generation === 2,
    "the edit observed",
  );
  // Its server, restarted, wrote to the named bucket.
  const named = natsNames("default", name, bucket);
  const { artifacts: namedStore } = await ensureJobResources(w.nc, named);
  await namedStore.put(checkpointObjectName(1), new Uint8Array([4, 5]));
  await w.world.custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: "default",
    name,
  });
  await waitFor(async () => (await getJob(w.world, name)) === undefined, {
    timeoutMs: 10_000,
    description: "job deleted",
  });
  const left = await streams();
  for (const s of jobStreamNames(defaults)) assert.ok(!left.includes(s), `${s} removed`);
  assert.ok(left.includes(`OBJ_${bucket}`), "the named bucket outlives the job");
  const kept = await openExistingArtifactStore(w.nc, bucket);
  assert.deepEqual(await kept?.names(), [checkpointObjectName(1)]);
});
