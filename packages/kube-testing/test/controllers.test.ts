// The control plane with kube-controller-manager and kube-scheduler: built-in controllers act on what
// tests create, and pods are bound to kubelet-less Ready nodes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { applyYaml, createReadyNode, startControlPlane, waitFor, type ControlPlane } from "../src/index.js";

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

describe("a control plane with kube-controller-manager and kube-scheduler", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ controllerManager: true, scheduler: true });
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

  describe("scheduling onto test nodes", () => {
    const pod = (name: string, spec: Partial<NonNullable<V1Pod["spec"]>>): V1Pod => ({
      metadata: { name },
      spec: { containers: [{ name: "c", image: "localhost/c:1" }], ...spec },
    });
    const cases = [
      {
        name: "a pod selecting edge nodes lands on the edge node",
        pod: pod("edge-pod", { nodeSelector: { "sfprompt.io/edge": "true" } }),
        node: "edge-1",
      },
      {
        name: "a pod asking for a GPU lands on the node that has one",
        pod: pod("gpu-pod", {
          containers: [
            { name: "c", image: "localhost/c:1", resources: { limits: { "nvidia.com/gpu": "1" } } },
          ],
          tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
        }),
        node: "gpu-1",
      },
      {
        name: "a pod without tolerations avoids the tainted GPU node",
        pod: pod("plain-pod", {}),
        node: "edge-1",
      },
      {
        name: "a pod tolerating the GPU taint and selecting the GPU node lands there",
        pod: pod("tolerating-pod", {
          nodeSelector: { "kubernetes.io/hostname": "gpu-1" },
          tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
        }),
        node: "gpu-1",
      },
    ];
    before(async () => {
      await createReadyNode(cp.kubeConfig, { name: "edge-1", labels: { "sfprompt.io/edge": "true" } });
      await createReadyNode(cp.kubeConfig, {
        name: "gpu-1",
        capacity: { "nvidia.com/gpu": "1" },
        taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }],
      });
    });
    for (const c of cases) {
      it(c.name, async () => {
        const core = cp.kubeConfig.makeApiClient(CoreV1Api);
        await core.createNamespacedPod({ namespace: "default", body: c.pod });
        const nodeName = await waitFor(
          async () =>
            (await core.readNamespacedPod({ name: c.pod.metadata!.name!, namespace: "default" })).spec
              ?.nodeName,
          { timeoutMs: 30_000, description: `pod ${c.pod.metadata!.name} to be scheduled` },
        );
        assert.equal(nodeName, c.node);
      });
    }

    it("a pod no node fits stays unscheduled with a reason", async () => {
      const core = cp.kubeConfig.makeApiClient(CoreV1Api);
      await core.createNamespacedPod({
        namespace: "default",
        body: pod("nowhere", { nodeSelector: { zone: "mars" } }),
      });
      const cond = await waitFor(
        async () =>
          (await core.readNamespacedPod({ name: "nowhere", namespace: "default" })).status?.conditions?.find(
            (x) => x.type === "PodScheduled",
          ),
        { timeoutMs: 30_000, description: "the scheduler to report on pod nowhere" },
      );
      assert.equal(cond.status, "False");
      assert.equal(cond.reason, "Unschedulable");
      const stored = await core.readNamespacedPod({ name: "nowhere", namespace: "default" });
      assert.equal(stored.spec?.nodeName, undefined);
    });
  });
});
