// Children's names against what else lives in the namespace: job names that are no Service name or
// are as long as a name can be, and objects of someone else's that carry a child's name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "@sfprompt/kube-testing";
import { jobLabelValue } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import {
  condition,
  createJob,
  getJob,
  merge,
  podNames,
  setPodPhase,
  setServerAvailable,
  waitForJob,
  worldHooks,
} from "./harness.js";

const w = worldHooks();

test("jobs named with a dot or a leading digit get valid, distinct Service names and their client pods", async () => {
  const names = ["web.v2", "web-v2", "7up"];
  for (const name of names) await createJob(w.world, jobManifest(name, { clients: { count: 2 } }));
  const services = new Map<string, string>();
  for (const name of names) {
    const pods = await waitFor(
      async () => {
        const p = await podNames(w.world, name);
        return p.length === 2 ? p : undefined;
      },
      { timeoutMs: 15_000, description: `the client pods of ${name}` },
    );
    assert.deepEqual(pods, [`${name}-client-0`, `${name}-client-1`]);
    await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} to get a status`);
    const svc = await w.world.core.listNamespacedService({
      namespace: "default",
      labelSelector: `sfprompt.io/job=${name}`,
    });
    assert.equal(svc.items.length, 1, `one Service for ${name}`);
    services.set(name, svc.items[0]!.metadata!.name!);
  }
  for (const s of services.values()) assert.match(s, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  assert.equal(services.get("web-v2"), "web-v2-server", "a name that is already a DNS-1035 label is kept");
  assert.equal(new Set(services.values()).size, names.length, "web.v2 and web-v2 do not share a Service");
});

test("a ConfigMap or Service of someone else's with a child's name is not taken over: NameConflict until it goes", async () => {
  const ns = "default";
  await w.world.core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: "clash-config" }, data: { keep: "me" } },
  });
  await w.world.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "clash-server" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } },
  });
  await createJob(w.world, jobManifest("clash", { clients: { count: 1 } }));
  const conflict = async (kind: string, name: string): Promise<void> => {
    const j = await waitForJob(
      w.world,
      "clash",
      (x) => condition(x, "Created")?.message.startsWith(`${kind} default/${name} already exists`) === true,
      `a NameConflict naming ${kind} ${name}`,
    );
    assert.equal(condition(j, "Created")?.status, "False");
    assert.equal(condition(j, "Created")?.reason, "NameConflict");
    assert.match(
      condition(j, "Created")!.message,
      /is not this job's \(it has no controller\); delete or rename it/,
    );
  };
  await conflict("ConfigMap", "clash-config");
  const cm = await w.world.core.readNamespacedConfigMap({ name: "clash-config", namespace: ns });
  assert.deepEqual(
    [cm.data, cm.metadata!.ownerReferences],
    [{ keep: "me" }, undefined],
    "the ConfigMap is untouched",
  );
  const events = await w.world.core.listNamespacedEvent({
    namespace: ns,
    fieldSelector: "involvedObject.name=clash,reason=NameConflict",
  });
  assert.equal(events.items[0]?.type, "Warning");

  await w.world.core.deleteNamespacedConfigMap({ name: "clash-config", namespace: ns });
  await conflict("Service", "clash-server");
  const svc = await w.world.core.readNamespacedService({ name: "clash-server", namespace: ns });
  assert.deepEqual([svc.spec!.selector, svc.metadata!.ownerReferences], [{ app: "web" }, undefined]);

  await w.world.core.deleteNamespacedService({ name: "clash-server", namespace: ns });
  await waitForJob(
    w.world,
    "clash",
    (x) => condition(x, "Created")?.status === "True",
    "clash's own children",
  );
  assert.deepEqual(await podNames(w.world, "clash"), ["clash-client-0"]);

  // An orphan that carries the job's labels was the job's own (kubectl delete --cascade=orphan): adopted.
  await w.world.core.patchNamespacedConfigMap(
    { name: "clash-config", namespace: ns, body: { metadata: { ownerReferences: null } } },
    merge,
  );
  const adopted = await waitFor(
    async () => {
      const c = await w.world.core.readNamespacedConfigMap({ name: "clash-config", namespace: ns });
      return c.metadata!.ownerReferences?.[0]?.name === "clash" ? c : undefined;
    },
    { timeoutMs: 15_000, description: "the orphaned ConfigMap to be adopted again" },
  );
  assert.equal(adopted.metadata!.ownerReferences![0]!.controller, true);
  assert.equal(condition(await getJob(w.world, "clash"), "Created")?.status, "True");
});

test("jobs with names of 235 to 253 characters get children, ReplicaSet names and events within the limits", async () => {
  for (const length of [235, 253]) {
    const name = `long-${"a".repeat(length - 7)}.x`;
    await createJob(w.world, jobManifest(name, { clients: { count: 1 } }));
    const [pod] = await waitFor(
      async () => {
        // the label value is the name cut to 63 characters with a digest
        const p = await podNames(w.world, jobLabelValue(name));
        return p.length === 1 ? p : undefined;
      },
      { timeoutMs: 15_000, description: `the client pod of the ${length}-character job` },
    );
    assert.ok(pod!.length <= 253, `pod name of ${pod!.length}`);
    const deployments = (await w.world.apps.listNamespacedDeployment({ namespace: "default" })).items.filter(
      (d) => d.metadata!.ownerReferences?.[0]?.name === name,
    );
    assert.equal(deployments.length, 1, "one server Deployment");
    const deployment = deployments[0]!;
    // The Deployment controller names its ReplicaSets <deployment>-<pod-template-hash> (up to 10
    // characters); a name the API server refuses would leave the server without pods.
    await w.world.apps.createNamespacedReplicaSet({
      namespace: "default",
      body: {
        metadata: { name: `${deployment.metadata!.name}-7d9f8c6b5a` },
        spec: {
          selector: { matchLabels: { app: "x" } },
          template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "x" }] } },
        },
      },
    });
    await setServerAvailable(w.world, deployment.metadata!.name!, 1);
    await setPodPhase(w.world, pod!, "Running");
    await waitForJob(
      w.world,
      name,
      (j) => j.status?.phase === "Running",
      `the ${length}-character job Running`,
    );
    const events = await waitFor(
      async () => {
        const e = await w.world.core.listNamespacedEvent({
          namespace: "default",
          fieldSelector: `involvedObject.name=${name},reason=Running`,
        });
        return e.items.length > 0 ? e.items : undefined;
      },
      { timeoutMs: 10_000, description: `the Running event of the ${length}-character job` },
    );
    assert.ok(events[0]!.metadata!.name!.length <= 253);
  }
});
