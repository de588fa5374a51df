// The control plane with kube-controller-manager: built-in controllers act on what tests create.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { applyYaml, startControlPlane, waitFor, type ControlPlane } from "../src/index.js";

const deploymentYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: localhost/web:1
`;

describe("a control plane with kube-controller-manager", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ controllerManager: true });
  });
  after(async () => {
    await cp?.stop();
  });

  it("a Deployment gets a ReplicaSet it owns, with the replicas and template asked for", async () => {
    const [dep] = await applyYaml(cp.kubeConfig, deploymentYaml);
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const rs = await waitFor(
      async () =>
        (await apps.listNamespacedReplicaSet({ namespace: "default", labelSelector: "app=web" })).items[0],
      { timeoutMs: 30_000, description: "the ReplicaSet of Deployment web" },
    );
    assert.equal(rs.metadata?.ownerReferences?.[0]?.uid, dep?.metadata?.uid);
    assert.equal(rs.metadata?.ownerReferences?.[0]?.kind, "Deployment");
    assert.equal(rs.spec?.replicas, 2);
    assert.equal(rs.spec?.template?.spec?.containers[0]?.image, "localhost/web:1");
  });

  it("deleting an owner garbage-collects the object it owns", async () => {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const owner = await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "owner" } },
    });
    const ownerRef = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata!.uid! };
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "child", ownerReferences: [ownerRef] }, data: { k: "v" } },
    });
    await core.deleteNamespacedConfigMap({ name: "owner", namespace: "default" });
    await waitFor(
      async () => {
        const names = (await core.listNamespacedConfigMap({ namespace: "default" })).items.map(
          (c) => c.metadata?.name,
        );
        return !names.includes("child") && !names.includes("owner");
      },
      { timeoutMs: 30_000, description: "the garbage collector to delete ConfigMap child" },
    );
    await assert.rejects(
      core.readNamespacedConfigMap({ name: "child", namespace: "default" }),
      (e: unknown) => {
        return (e as { code?: number }).code === 404;
      },
    );
  });
});
