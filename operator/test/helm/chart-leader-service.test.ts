// The chart's way to the leader (ADR 0023, amendment 3), rendered with helm: the <fullname>-leader
// Service selects the operator pods that carry the leader label, the operator is told which pods are
// its release's (the Deployment's selector), and its Role lets it list, watch and patch pods in the
// release namespace only (watch: amendment 4). The labelling itself runs against a real API server in
// test/integration/leader-pod-label.test.ts and, with the chart's RBAC, in chart-apiserver.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { helm } from "@sfprompt/kube-testing";
import { parseConfig } from "../../src/config.js";
import { LEADER_POD_LABEL, LEADER_POD_VALUE } from "../../src/leader/leader-pod-label.js";
import { CHART, NAMESPACE, RELEASE, find, operatorEnv, render, type K8sObject } from "./chart.js";

interface ServiceSpec {
  metadata: { labels: Record<string, string> };
  spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules: Rule[];
}

const matchLabels = (objects: K8sObject[]): Record<string, string> =>
  (find(objects, "Deployment") as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec
    .selector.matchLabels;

/** Every rule of the chart's Roles and ClusterRoles that grants `verb` on core pods, with where it applies. */
function podGrants(objects: K8sObject[], verb: string): string[] {
  return (objects as unknown as RbacObject[])
    .filter((o) => o.kind === "Role" || o.kind === "ClusterRole")
    .flatMap((o) =>
      o.rules
        .filter((r) => r.apiGroups.includes("") && r.resources.includes("pods") && r.verbs.includes(verb))
        .map(() => (o.kind === "ClusterRole" ? `cluster-wide ${o.metadata.name}` : `${o.metadata.namespace}`)),
    )
    .sort();
}

describe("the leader Service", () => {
  it("selects the Deployment's pods that carry the leader label, on the http port; -metrics keeps every replica", async () => {
    const objects = await render({ "operator.replicas": 2 });
    const pods = matchLabels(objects);
    const leader = find(objects, "Service", "sfprompt-operator-leader") as unknown as ServiceSpec;
    assert.deepEqual(leader.spec.selector, { ...pods, [LEADER_POD_LABEL]: LEADER_POD_VALUE });
    assert.deepEqual(leader.spec.ports, [{ name: "http", port: 8081, targetPort: "http" }]);
    const metrics = find(objects, "Service", "sfprompt-operator-metrics") as unknown as ServiceSpec;
    assert.deepEqual(metrics.spec.selector, pods, "Prometheus scrapes every replica");
    assert.notEqual(leader.metadata.labels["app.kubernetes.io/component"], "operator", "not a ServiceMonitor target");
  });

  it("is the one the install notes read the rounds through", async () => {
    const r = await helm(["install", RELEASE, CHART, "--namespace", NAMESPACE, "--dry-run=client"]);
    const notes = r.stdout.slice(r.stdout.indexOf("NOTES:"));
    const proxied = /services\/http:([a-z0-9-]+):http\/proxy\/jobs\//.exec(notes)?.[1];
    const leader = find(await render(), "Service", proxied) as unknown as ServiceSpec;
    assert.equal(leader.spec.selector[LEADER_POD_LABEL], LEADER_POD_VALUE);
  });
});

describe("the operator's leader label settings", () => {
  it("name the release's pods by the Deployment's selector and the pod by the Downward API", async () => {
    const objects = await render({ "operator.podLabels": { team: "ml" } });
    const env = operatorEnv(objects);
    const config = parseConfig([], { ...env, POD_NAMESPACE: NAMESPACE, POD_NAME: "op-0" });
    const selector = Object.fromEntries(config.leaderPod!.selector.split(",").map((kv) => kv.split("=")));
    assert.deepEqual(selector, matchLabels(objects));
    assert.deepEqual([config.leaderPod!.name, config.leaderPod!.namespace], ["op-0", NAMESPACE]);
    const fieldRefs = (
      find(objects, "Deployment") as unknown as {
        spec: {
          template: {
            spec: { containers: { env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[] }[] };
          };
        };
      }
    ).spec.template.spec.containers[0]!.env.filter((e) => e.valueFrom?.fieldRef);
    assert.deepEqual(
      fieldRefs.map((e) => [e.name, e.valueFrom!.fieldRef!.fieldPath]),
      [
        ["POD_NAME", "metadata.name"],
        ["POD_NAMESPACE", "metadata.namespace"],
      ],
    );
  });
});

describe("the RBAC for the leader label", () => {
  const sets: { name: string; values: Record<string, unknown>; patch: string[] }[] = [
    // All namespaces: the job rules' ClusterRole covers pods everywhere already.
    { name: "the defaults", values: {}, patch: [NAMESPACE, "cluster-wide sfprompt-operator-jobs"] },
    {
      name: "watched namespaces",
      values: { "operator.watchNamespaces": ["team-a"] },
      patch: [NAMESPACE, "team-a"],
    },
    {
      name: "one replica without leader election",
      values: { "operator.watchNamespaces": ["team-a"], "leaderElection.enabled": false },
      patch: [NAMESPACE, "team-a"],
    },
  ];
  for (const s of sets) {
    it(`with ${s.name}: list, watch and patch on pods in the release namespace by a Role, nothing more`, async () => {
      const objects = await render(s.values);
      assert.deepEqual(podGrants(objects, "patch"), s.patch.sort());
      assert.deepEqual(podGrants(objects, "watch"), s.patch.sort(), "watch where it patches");
      const own = (objects as unknown as RbacObject[]).find(
        (o) => o.kind === "Role" && o.metadata.name === "sfprompt-operator" && o.metadata.namespace === NAMESPACE,
      );
      const podRules = own!.rules.filter((r) => r.resources.includes("pods"));
      assert.deepEqual(podRules, [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "watch", "patch"] }]);
    });
  }
});
