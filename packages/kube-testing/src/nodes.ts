// Nodes without a kubelet: a Node object whose status says Ready with capacity, so that
// kube-scheduler binds pods to it and node selectors, affinity and tolerations can be tested.
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1NodeStatus,
  type V1Taint,
} from "@kubernetes/client-node";

export interface ReadyNodeOptions {
  name: string;
  labels?: Record<string, string>;
  taints?: V1Taint[];
  /** Capacity = allocatable (default cpu 8, memory 32Gi, pods 110; add e.g. "nvidia.com/gpu": "1"). */
  capacity?: Record<string, string>;
}

const defaultCapacity = { cpu: "8", memory: "32Gi", pods: "110" };

/** Creates the Node and writes a Ready status as a kubelet would; returns the stored Node. */
export async function createReadyNode(kc: KubeConfig, opts: ReadyNodeOptions): Promise<V1Node> {
  const core = kc.makeApiClient(CoreV1Api);
  const labels = { "kubernetes.io/hostname": opts.name, "kubernetes.io/os": "linux", ...opts.labels };
  const created = await core.createNode({
    body: { metadata: { name: opts.name, labels }, spec: opts.taints ? { taints: opts.taints } : {} },
  });
  const capacity = { ...defaultCapacity, ...opts.capacity };
  const now = new Date();
  const status: V1NodeStatus = {
    capacity,
    allocatable: capacity,
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "test node (no kubelet)",
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
  };
  // Merge patches, so that controllers touching the Node meanwhile cause no conflict.
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const name = created.metadata!.name!;
  await core.patchNodeStatus({ name, body: { status } }, merge);
  // The TaintNodesByCondition admission plugin tainted the new Node not-ready; the node lifecycle
  // controller would lift it after a kubelet heartbeat, which never comes here.
  return core.patchNode({ name, body: { spec: { taints: opts.taints ?? [] } } }, merge);
}
