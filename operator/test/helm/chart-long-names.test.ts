// The chart's object names for the longest and oddest names Helm accepts (ADR 0015, amendment 5),
// rendered with helm: a 53-character release name (Helm's longest), one that holds the chart's name,
// a 63-character fullnameOverride, and a release name with dots and a leading digit. Every object's
// name is valid for its kind, no two objects of a kind share a namespace and name, and everything
// that names another object (webhook clientConfig, the operator's flags, RBAC, the NATS URL, the
// ServiceMonitor's selector, the install notes) names one the chart renders.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { helm } from "@sfprompt/kube-testing";
import { parseConfig } from "../../src/config.js";
import { LEADER_POD_LABEL, LEADER_POD_VALUE } from "../../src/leader/leader-pod-label.js";
import { parseWebhookConfig } from "../../src/webhook/webhook-config.js";
import { CHART, MONITORING_API, NAMESPACE, find, operatorEnv, render, renderRaw, type K8sObject } from "./chart.js";
import { duplicates, nameProblem, namesOf, nonStringLabels, selects, serviceOf } from "./object-names.js";

interface Case {
  name: string;
  release: string;
  values: Record<string, unknown>;
}

const CASES: Case[] = [
  { name: "a 53-character release name", release: `edge-site-${"a".repeat(43)}`, values: {} },
  {
    name: "a 53-character release name that holds the chart's name",
    release: `sfprompt-operator-${"b".repeat(35)}`,
    values: {},
  },
  { name: "a 63-character fullnameOverride", release: "sfprompt-operator", values: { fullnameOverride: "c".repeat(63) } },
  { name: "a release name with dots that starts with a digit", release: "1.edge.site-a", values: {} },
  { name: "a release name of digits, which YAML reads as a number", release: "123", values: {} },
];

/** Every optional object on: the monitors, the dashboard, and Roles in a watched namespace or a ClusterRole. */
const VALUE_SETS: { name: string; values: Record<string, unknown> }[] = [
  { name: "all namespaces", values: {} },
  { name: "a watched namespace", values: { "operator.watchNamespaces": ["team-a"] } },
].map((s) => ({
  name: s.name,
  values: {
    ...s.values,
    "metrics.serviceMonitor.enabled": true,
    "metrics.podMonitor.enabled": true,
    "metrics.grafanaDashboard.enabled": true,
  },
}));

type Labels = Record<string, string>;
const labels = (o: K8sObject): Labels => (o.metadata.labels as Labels | undefined) ?? {};
const spec = <T>(o: K8sObject): T => (o as unknown as { spec: T }).spec;
const ruleNames = (o: K8sObject, resource: string): string[] =>
  (o as unknown as { rules: { resources: string[]; resourceNames?: string[] }[] }).rules
    .filter((r) => r.resources.includes(resource))
    .flatMap((r) => r.resourceNames ?? []);

function assertReferences(objects: K8sObject[]): void {
  const env = operatorEnv(objects);
  const deployment = find(objects, "Deployment");
  const pod = spec<{ template: { metadata: { labels: Labels }; spec: { serviceAccountName: string } } }>(deployment)
    .template;

  const webhook = serviceOf(objects, "webhook").metadata.name;
  for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]) {
    const hooks = (find(objects, kind) as unknown as { webhooks: { clientConfig: { service: { name: string; namespace: string } } }[] })
      .webhooks;
    for (const h of hooks) assert.deepEqual(h.clientConfig.service, { ...h.clientConfig.service, name: webhook, namespace: NAMESPACE }, kind);
  }
  assert.equal(env.SFPROMPT_WEBHOOK_SERVICE, webhook, "--webhook-service");
  const webhookConfig = parseWebhookConfig([], { ...env, POD_NAMESPACE: NAMESPACE });
  assert.ok(webhookConfig.hosts.includes(`${webhook}.${NAMESPACE}.svc`), "the certificate names the webhook Service");
  assert.deepEqual(webhookConfig.caBundle, {
    validating: namesOf(objects, "ValidatingWebhookConfiguration"),
    mutating: namesOf(objects, "MutatingWebhookConfiguration"),
  });
  const caRole = objects.find((o) => o.kind === "ClusterRole" && ruleNames(o, "validatingwebhookconfigurations").length > 0)!;
  assert.deepEqual(ruleNames(caRole, "validatingwebhookconfigurations"), namesOf(objects, "ValidatingWebhookConfiguration"));
  assert.deepEqual(ruleNames(caRole, "mutatingwebhookconfigurations"), namesOf(objects, "MutatingWebhookConfiguration"));

  const config = parseConfig([], { ...env, POD_NAMESPACE: NAMESPACE, POD_NAME: "op-0" });
  const ownRole = objects.find((o) => o.kind === "Role" && o.metadata.namespace === NAMESPACE)!;
  assert.equal(nameProblem("Lease", config.leaderElection.name), undefined);
  assert.deepEqual(ruleNames(ownRole, "leases"), [config.leaderElection.name], "the Role names the Lease");
  assert.ok(webhookConfig.certs.mode === "generate");
  assert.deepEqual(ruleNames(ownRole, "secrets"), [webhookConfig.certs.secretName], "the Role names the webhook Secret");
  const podSelector = Object.fromEntries(config.leaderPod!.selector.split(",").map((kv) => kv.split("=")));
  assert.deepEqual(podSelector, spec<{ selector: { matchLabels: Labels } }>(deployment).selector.matchLabels);

  const metrics = serviceOf(objects, "operator");
  const leader = serviceOf(objects, "leader");
  const selectorOf = (s: K8sObject): Labels => spec<{ selector: Labels }>(s).selector;
  for (const s of [metrics, serviceOf(objects, "webhook")]) {
    assert.ok(selects(selectorOf(s), pod.metadata.labels), `${s.metadata.name} selects the operator pods`);
  }
  assert.deepEqual(selectorOf(leader), { ...selectorOf(metrics), [LEADER_POD_LABEL]: LEADER_POD_VALUE });
  const monitorSelector = spec<{ selector: { matchLabels: Labels } }>(find(objects, "ServiceMonitor")).selector.matchLabels;
  assert.deepEqual(
    objects.filter((o) => o.kind === "Service" && selects(monitorSelector, labels(o))).map((o) => o.metadata.name),
    [metrics.metadata.name],
    "the ServiceMonitor scrapes the -metrics Service alone",
  );

  const nats = serviceOf(objects, "nats").metadata.name;
  assert.equal(config.children.natsUrl, `nats://${nats}.${NAMESPACE}.svc:4222`);
  const sts = spec<{ serviceName: string; template: { spec: { volumes: { configMap?: { name: string } }[] } } }>(
    find(objects, "StatefulSet"),
  );
  assert.equal(sts.serviceName, nats);
  const configMaps = sts.template.spec.volumes.flatMap((v) => (v.configMap ? [v.configMap.name] : []));
  assert.deepEqual(configMaps.filter((c) => !namesOf(objects, "ConfigMap", NAMESPACE).includes(c)), []);

  const serviceAccount = pod.spec.serviceAccountName;
  assert.deepEqual(namesOf(objects, "ServiceAccount", NAMESPACE), [serviceAccount]);
  for (const b of objects.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")) {
    const { roleRef, subjects } = b as unknown as { roleRef: { kind: string; name: string }; subjects: { name: string }[] };
    assert.ok(namesOf(objects, roleRef.kind, b.metadata.namespace).includes(roleRef.name), `${b.kind} ${b.metadata.name} -> ${roleRef.name}`);
    assert.deepEqual(subjects.map((s) => s.name), [serviceAccount]);
  }
}

async function installNotes(c: Case): Promise<string> {
  const set = Object.entries(c.values).flatMap(([k, v]) => ["--set-json", `${k}=${JSON.stringify(v)}`]);
  const r = await helm(["install", c.release, CHART, "--namespace", NAMESPACE, "--dry-run=client", ...set]);
  return r.stdout.slice(r.stdout.indexOf("NOTES:"));
}

for (const c of CASES) {
  describe(`the chart with ${c.name}`, () => {
    for (const s of VALUE_SETS) {
      it(`(${s.name}) names every object validly for its kind, once per kind and namespace`, async () => {
        const objects = await render({ ...c.values, ...s.values }, c.release, MONITORING_API);
        const problems = objects.map((o) => nameProblem(o.kind, o.metadata.name)).filter((p) => p !== undefined);
        assert.deepEqual(problems, []);
        assert.deepEqual(duplicates(objects), []);
        assert.deepEqual(nonStringLabels(objects), [], "label values are strings");
      });
      it(`(${s.name}) refers only to objects it renders, by the names they have`, async () => {
        assertReferences(await render({ ...c.values, ...s.values }, c.release, MONITORING_API));
      });
    }
    it("prints in its install notes the names of the objects it renders", async () => {
      const objects = await render(c.values, c.release);
      const notes = await installNotes(c);
      const leader = serviceOf(objects, "leader").metadata.name;
      assert.ok(notes.includes(`deployment/${find(objects, "Deployment").metadata.name}\n`), notes);
      assert.ok(notes.includes(`statefulset/${find(objects, "StatefulSet").metadata.name}\n`), notes);
      assert.ok(notes.includes(`/services/http:${leader}:http/proxy/jobs/`), notes);
      assert.ok(notes.includes(`Service ${serviceOf(objects, "operator").metadata.name} `), notes);
    });
  });
}

describe("two long fullnameOverrides that differ only at the end", () => {
  it("give every Service a different name", async () => {
    const [a, b] = await Promise.all(
      ["d", "e"].map(async (last) => namesOf(await render({ fullnameOverride: `${"f".repeat(62)}${last}` }), "Service")),
    );
    assert.deepEqual(a!.filter((n) => b!.includes(n)), []);
  });
});

describe("fullnameOverride", () => {
  for (const bad of ["1-edge", "edge.site", "Edge", "g".repeat(64)]) {
    it(`refuses ${bad.length > 20 ? `${bad.length} characters` : bad} (no DNS-1035 label of at most 63 characters), naming the value`, async () => {
      const r = await renderRaw({ fullnameOverride: bad });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /\/fullnameOverride/);
    });
  }
});

describe("the docs' release name", () => {
  it("keeps the names the docs print", async () => {
    const objects = await render();
    assert.deepEqual(namesOf(objects, "Service").sort(), [
      "sfprompt-operator-leader",
      "sfprompt-operator-metrics",
      "sfprompt-operator-nats",
      "sfprompt-operator-webhook",
    ]);
    assert.equal(find(objects, "Deployment").metadata.name, "sfprompt-operator");
  });
});
