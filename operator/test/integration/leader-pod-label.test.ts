// The leader's pod label against a real kube-apiserver (ADR 0023, amendment 3): of two operators with
// pod identities only the Lease holder's pod carries sfprompt.io/operator-role=leader, a stale label on
// another pod of the release is cleared, the label moves when the leader stops, and a leader that may
// not label its pod says why, keeps leading and retries.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { waitFor } from "@sfprompt/kube-testing";
import { LEADER_POD_LABEL } from "../../src/leader/leader-pod-label.js";
import { createLogger } from "../../src/log.js";
import { startOperator, type RunningOperator } from "../../src/operator.js";
import { runOperator, startWorld, testConfig, type World } from "./harness.js";
import { createPod as createPodIn, release } from "./leader-pods.js";

let world: World;
const createPod = (name: string, labels: Record<string, string>): Promise<void> =>
  createPodIn(world.core, name, labels);
const operators: RunningOperator[] = [];

const selector = (instance: string): string =>
  Object.entries(release(instance))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** Names of the pods that carry the leader label, sorted. */
async function leaderPods(): Promise<string[]> {
  const pods = await world.core.listNamespacedPod({
    namespace: "default",
    labelSelector: `${LEADER_POD_LABEL}=leader`,
  });
  return pods.items.map((p) => p.metadata!.name!).sort();
}

function elected(pod: string, lease: string, instance: string) {
  return testConfig(world, (c) => {
    c.leaderElection = { ...c.leaderElection, enabled: true, name: lease, identity: pod };
    c.leaderPod = { name: pod, namespace: "default", selector: selector(instance) };
  });
}

before(async () => {
  world = await startWorld();
  await createPod("op-a", release("sfp"));
  await createPod("op-b", release("sfp"));
  // A former leader of this release that stopped without taking its label off (killed, say).
  await createPod("op-gone", { ...release("sfp"), [LEADER_POD_LABEL]: "leader" });
  // Another release's leader in the same namespace: not this release's to clear.
  await createPod("other-0", { ...release("other"), [LEADER_POD_LABEL]: "leader" });
});
after(async () => {
  await Promise.all(operators.map((o) => o.stop()));
  await world?.stop();
});

test("only the lease holder's pod carries the leader label; a stale one is cleared; it moves when the leader stops", async () => {
  const a = await runOperator(world, elected("op-a", "label-test", "sfp"));
  operators.push(a);
  await waitFor(() => a.isLeader(), { timeoutMs: 10_000, description: "op-a to lead" });
  await waitFor(async () => (await leaderPods()).join() === "op-a,other-0", {
    timeoutMs: 10_000,
    description: "the label on op-a, off op-gone, other-0's left alone",
  });

  const b = await runOperator(world, elected("op-b", "label-test", "sfp"));
  operators.push(b);
  await new Promise((r) => setTimeout(r, 1500)); // several retry periods: the standby labels nothing
  assert.equal(b.isLeader(), false);
  assert.deepEqual(await leaderPods(), ["op-a", "other-0"]);

  await a.stop();
  operators.splice(operators.indexOf(a), 1);
  await waitFor(() => b.isLeader(), { timeoutMs: 10_000, description: "op-b to take over" });
  await waitFor(async () => (await leaderPods()).join() === "op-b,other-0", {
    timeoutMs: 10_000,
    description: "the label moved from op-a to op-b",
  });
  await b.stop();
  operators.splice(operators.indexOf(b), 1);
  assert.deepEqual(await leaderPods(), ["other-0"], "a leader that stops takes its label off");
});

/** A KubeConfig for a ServiceAccount in default that may use Leases there and nothing else yet. */
async function leaseOnlyAccount(name: string): Promise<KubeConfig> {
  const rbac = world.cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await world.core.createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace: "default",
    body: {
      metadata: { name: `${name}-lease` },
      rules: [
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
      ],
    },
  });
  await bind(name, `${name}-lease`);
  const tr = await world.core.createNamespacedServiceAccountToken({
    namespace: "default",
    name,
    body: { spec: { expirationSeconds: 3600, audiences: [] } },
  });
  const cluster = world.cp.kubeConfig.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: tr.status!.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return kc;
}

async function bind(account: string, role: string): Promise<void> {
  await world.cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace: "default",
    body: {
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
      subjects: [{ kind: "ServiceAccount", name: account, namespace: "default" }],
    },
  });
}

test("a leader that may not label its pod logs what it needs, keeps leading, and labels it once allowed", async () => {
  await createPod("op-rbac", release("rbac"));
  const lines: string[] = [];
  const op = await startOperator(elected("op-rbac", "label-rbac", "rbac"), {
    kubeConfig: await leaseOnlyAccount("op-rbac"),
    log: createLogger({ level: "warn", write: (l) => lines.push(l) }),
  });
  operators.push(op);
  await waitFor(() => op.isLeader(), { timeoutMs: 10_000, description: "op-rbac to lead" });
  const failure = await waitFor(
    () =>
      lines
        .map((l) => JSON.parse(l) as { msg: string; pod?: string; err?: { message?: string } })
        .find((l) => l.msg.startsWith("could not label the leader's pod")),
    { timeoutMs: 10_000, description: "the failed label logged" },
  );
  assert.equal(failure.pod, "default/op-rbac");
  assert.match(failure.err?.message ?? "", /HTTP 403/);
  assert.match(failure.err?.message ?? "", /needs list, watch and patch on pods in namespace default/);
  const watchFailure = await waitFor(
    () =>
      lines
        .map((l) => JSON.parse(l) as { level: string; msg: string; err?: { message?: string } })
        .find((l) => l.msg.startsWith("the watch on leader-labelled pods failed")),
    { timeoutMs: 10_000, description: "the failed watch logged" },
  );
  assert.equal(watchFailure.level, "warn");
  assert.match(watchFailure.err?.message ?? "", /HTTP 403/);
  assert.match(watchFailure.err?.message ?? "", /needs watch on pods in namespace default/);
  assert.equal(op.isLeader(), true, "a failed label does not end leadership");
  assert.deepEqual(await leaderPods(), ["other-0"]);

  await world.cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createNamespacedRole({
    namespace: "default",
    body: {
      metadata: { name: "op-rbac-pods" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "patch"] }],
    },
  });
  await bind("op-rbac", "op-rbac-pods");
  // Failed passes back off up to twice the lease (the test config's 30 s lease: 60 s), so the retry
  // may be that far off; without one the label never comes.
  await waitFor(async () => (await leaderPods()).join() === "op-rbac,other-0", {
    timeoutMs: 90_000,
    description: "the retried label on op-rbac",
  });
  assert.equal(op.isLeader(), true);
});
