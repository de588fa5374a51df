// The Helm chart against a real kube-apiserver: every value set's output passes
// `kubectl apply --dry-run=server`; an installed release's RBAC is exactly enough for the
// operator and its webhook, run in-process with the ServiceAccount's own token and the
// environment the Deployment template gives them; uninstall keeps the CRD.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { API_VERSION, KIND } from "@sfprompt/api";
import { helm, kubectl, startControlPlane, waitFor, type ControlPlane } from "@sfprompt/kube-testing";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startOperator, type RunningOperator } from "../../src/operator.js";
import { startWebhook, type RunningWebhook } from "../../src/webhook/run-webhook.js";
import { parseWebhookConfig } from "../../src/webhook/webhook-config.js";
import { CHART, NAMESPACE, RELEASE, operatorEnv, render, renderText } from "./chart.js";

let cp: ControlPlane;
let webhook: RunningWebhook | undefined;
let operator: RunningOperator | undefined;
const log = createLogger({ level: process.env.SFPROMPT_TEST_LOG === "1" ? "debug" : "error" });
const SA = `system:serviceaccount:${NAMESPACE}:${RELEASE}`;

before(async () => {
  cp = await startControlPlane();
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const name of [NAMESPACE, "team-a", "team-b"]) await core.createNamespace({ body: { metadata: { name } } });
});
after(async () => {
  await operator?.stop();
  await webhook?.stop();
  await cp?.stop();
});

describe("helm template | kubectl apply --dry-run=server", () => {
  const valueSets: { name: string; values: Record<string, unknown> }[] = [
    { name: "the defaults (k3s)", values: {} },
    { name: "watched namespaces", values: { "operator.watchNamespaces": ["team-a", "team-b"] } },
    {
      name: "a cert-manager style Secret with a CA bundle, two replicas",
      values: {
        "webhook.certs.mode": "secret",
        "webhook.certs.secretName": "sfprompt-webhook-tls",
        "webhook.certs.caBundle": Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64"),
        "webhook.configurationAnnotations": { "cert-manager.io/inject-ca-from": `${NAMESPACE}/sfprompt-webhook` },
        "operator.replicas": 2,
      },
    },
    {
      name: "an external NATS, no webhook, no CRD, no leader election",
      values: {
        "nats.bundled": false,
        "nats.url": "nats://nats.infra.svc:4222",
        "webhook.enabled": false,
        "crds.install": false,
        "leaderElection.enabled": false,
      },
    },
    { name: "NATS on an emptyDir", values: { "nats.persistence.enabled": false } },
  ];
  for (const v of valueSets) {
    it(`accepts ${v.name}`, async () => {
      const text = await renderText(v.values);
      const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], cp.kubeconfigPath, {
        input: text,
        allowFailure: true,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment\.apps\/sfprompt-operator created \(server dry run\)/);
    });
  }
});

/** A KubeConfig that authenticates as the chart's ServiceAccount with a token from the TokenRequest API. */
async function serviceAccountConfig(name = RELEASE): Promise<KubeConfig> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    namespace: NAMESPACE,
    name,
    body: { spec: { expirationSeconds: 3600, audiences: [] } },
  });
  const cluster = cp.kubeConfig.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "sa", token: tr.status!.token }],
    contexts: [{ name: "sa", cluster: cluster.name, user: "sa" }],
    currentContext: "sa",
  });
  return kc;
}

/** Pods in the release namespace with the labels of the chart's Deployment template, as its ReplicaSet makes them. */
async function createOperatorPods(names: string[], release = RELEASE, values: Record<string, unknown> = {}): Promise<void> {
  const d = (await render(values, release)).find((o) => o.kind === "Deployment") as unknown as {
    spec: { template: { metadata: { labels: Record<string, string> } } };
  };
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const name of names) {
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name, labels: d.spec.template.metadata.labels },
        spec: { containers: [{ name: "operator", image: "ghcr.io/sfprompt/operator:0.1.0" }] },
      },
    });
  }
}

async function canI(args: string[], as = SA): Promise<boolean> {
  const r = await kubectl(["auth", "can-i", "--as", as, ...args], cp.kubeconfigPath, { allowFailure: true });
  return r.stdout.trim() === "yes";
}

describe("an installed release", () => {
  let env: Record<string, string>;
  before(async () => {
    await helm(["install", RELEASE, CHART, "--namespace", NAMESPACE], { kubeconfigPath: cp.kubeconfigPath });
    env = { ...operatorEnv(await render()), POD_NAMESPACE: NAMESPACE, POD_NAME: "operator-0" };
  });

  const grants: { name: string; args: string[]; allowed: boolean }[] = [
    { name: "create client pods in any namespace", args: ["create", "pods", "-n", "team-a"], allowed: true },
    { name: "server-side apply Deployments", args: ["patch", "deployments", "-n", "default"], allowed: true },
    { name: "patch a job's status", args: ["patch", "sfpromptjobs.sfprompt.io", "--subresource=status", "-n", "team-b"], allowed: true },
    { name: "update its Lease", args: ["update", "leases.coordination.k8s.io/sfprompt-operator", "-n", NAMESPACE], allowed: true },
    { name: "update another Lease", args: ["update", "leases.coordination.k8s.io/kube-scheduler", "-n", NAMESPACE], allowed: false },
    { name: "patch its webhook configuration", args: ["patch", "validatingwebhookconfigurations/sfprompt-operator-validating"], allowed: true },
    { name: "patch another webhook configuration", args: ["patch", "validatingwebhookconfigurations/someone-else"], allowed: false },
    { name: "update another Secret in its namespace by name", args: ["update", "secrets/other", "-n", NAMESPACE], allowed: false },
    { name: "update pods (it only applies them)", args: ["update", "pods", "-n", "team-a"], allowed: false },
    { name: "patch its own pods (the leader label)", args: ["patch", "pods", "-n", NAMESPACE], allowed: true },
    { name: "watch its own pods (changes of the leader label)", args: ["watch", "pods", "-n", NAMESPACE], allowed: true },
    { name: "delete nodes", args: ["delete", "nodes"], allowed: false },
    { name: "create ClusterRoles", args: ["create", "clusterroles"], allowed: false },
    { name: "delete the CRD", args: ["delete", "customresourcedefinitions"], allowed: false },
  ];
  for (const g of grants) {
    it(`the ServiceAccount ${g.allowed ? "may" : "may not"} ${g.name}`, async () => {
      assert.equal(await canI(g.args), g.allowed);
    });
  }

  it("the webhook, as the ServiceAccount, stores its certificate and patches the chart's configurations", async () => {
    const kc = await serviceAccountConfig();
    const config = parseWebhookConfig([], { ...env, SFPROMPT_WEBHOOK_EXTRA_HOSTS: "127.0.0.1" });
    webhook = await startWebhook({ ...config, host: "127.0.0.1", port: 0 }, { kubeConfig: kc, log });
    assert.equal(webhook.ready(), true);
    const admission = cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    const v = await admission.readValidatingWebhookConfiguration({ name: "sfprompt-operator-validating" });
    const secret = await cp.kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: NAMESPACE, name: "sfprompt-operator-webhook-cert" });
    assert.equal(v.webhooks![0]!.clientConfig.caBundle, secret.data!["ca.crt"]);
    assert.equal(v.webhooks![0]!.clientConfig.service!.name, "sfprompt-operator-webhook");

    // helm upgrade must not wipe the caBundle the operator wrote (the chart never sets it).
    await helm(["upgrade", RELEASE, CHART, "--namespace", NAMESPACE, "--set", "operator.logLevel=debug"], {
      kubeconfigPath: cp.kubeconfigPath,
    });
    const after = await admission.readValidatingWebhookConfiguration({ name: "sfprompt-operator-validating" });
    assert.equal(after.metadata!.labels!["helm.sh/chart"], "sfprompt-operator-0.1.0");
    assert.equal(after.webhooks![0]!.clientConfig.caBundle, secret.data!["ca.crt"]);
    const m = await admission.readMutatingWebhookConfiguration({ name: "sfprompt-operator-mutating" });
    assert.equal(m.webhooks![0]!.clientConfig.caBundle, secret.data!["ca.crt"]);
  });

  it("the operator, as the ServiceAccount and with leader election, creates a job's children", async () => {
    // No kube-proxy here: point the chart's webhooks at the in-process server, keeping their caBundle.
    const admission = cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
    const toUrl = (path: string) => [
      { op: "remove", path: "/webhooks/0/clientConfig/service" },
      { op: "add", path: "/webhooks/0/clientConfig/url", value: `https://127.0.0.1:${webhook!.port}${path}` },
    ];
    await admission.patchValidatingWebhookConfiguration(
      { name: "sfprompt-operator-validating", body: toUrl("/validate-sfpromptjob") },
      jsonPatch,
    );
    await admission.patchMutatingWebhookConfiguration(
      { name: "sfprompt-operator-mutating", body: toUrl("/mutate-sfpromptjob") },
      jsonPatch,
    );
    // Two replicas' pods as the Deployment makes them (no kubelet runs here); this process is operator-0.
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await createOperatorPods(["operator-0", "operator-1"]);
    const config = parseConfig([], env);
    config.http = { host: "127.0.0.1", port: 0 };
    // The chart's own lease timings (15 s): nothing here waits for a lease to run out, and a 2 s lease's
    // 1.4 s renew deadline can lapse on a loaded machine, tearing the controller down mid-test.
    config.logLevel = "error";
    operator = await startOperator(config, { kubeConfig: await serviceAccountConfig(), log });
    await waitFor(() => operator!.isLeader(), { timeoutMs: 10_000, description: "leadership" });
    // The installed Services' selectors: -leader picks the leader's pod alone, -metrics both replicas.
    const selected = async (service: string): Promise<string> => {
      const s = await core.readNamespacedService({ namespace: NAMESPACE, name: service });
      const labelSelector = Object.entries(s.spec!.selector!).map(([k, v]) => `${k}=${v}`).join(",");
      const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector });
      return pods.items.map((p) => p.metadata!.name).sort().join();
    };
    // 30 s: with the chart's lease a failed label pass is retried after 2 s, then 4 s, 8 s, ...
    await waitFor(async () => (await selected("sfprompt-operator-leader")) === "operator-0", {
      timeoutMs: 30_000,
      description: "the leader Service to select operator-0, labelled by the operator as its ServiceAccount",
    });
    assert.equal(await selected("sfprompt-operator-metrics"), "operator-0,operator-1");

    const job = { apiVersion: API_VERSION, kind: KIND, metadata: { name: "rbac", namespace: "team-a" }, spec: { clients: { count: 2 } } };
    const bad = await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, {
      input: JSON.stringify({ ...job, spec: { training: { rounds: 0 } } }),
      allowFailure: true,
    });
    // The CRD's schema refuses this one before the validating webhook would.
    assert.match(bad.stderr, /spec\.training\.rounds/);
    await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, { input: JSON.stringify(job) });

    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const pods = await waitFor(
      async () => {
        const list = await core.listNamespacedPod({ namespace: "team-a" });
        return list.items.length === 2 ? list.items : undefined;
      },
      { timeoutMs: 20_000, description: "2 client pods created by the operator" },
    );
    assert.equal(pods.length, 2);
    const deployments = await apps.listNamespacedDeployment({ namespace: "team-a" });
    assert.equal(deployments.items.length, 1);
    assert.equal(deployments.items[0]!.spec!.template.spec!.containers[0]!.image, "ghcr.io/sfprompt/server:0.1.0");
    const lease = await cp.kubeConfig
      .makeApiClient((await import("@kubernetes/client-node")).CoordinationV1Api)
      .readNamespacedLease({ namespace: NAMESPACE, name: RELEASE });
    assert.equal(lease.spec!.holderIdentity, "operator-0");

    // The API server really calls the chart's webhooks: with the server gone, creates fail (failurePolicy Fail).
    await webhook!.stop();
    webhook = undefined;
    const refused = await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, {
      input: JSON.stringify({ ...job, metadata: { name: "no-webhook", namespace: "team-a" } }),
      allowFailure: true,
    });
    assert.match(refused.stderr, /failed calling webhook "(default|validate)\.sfpromptjobs\.sfprompt\.io"/);
    // ...but updates that leave the spec alone skip the webhooks (matchConditions): jobs stay
    // labelable and their finalizers removable while no webhook answers.
    await kubectl(["label", "sfpj", "rbac", "-n", "team-a", "checked=yes"], cp.kubeconfigPath);
    const specChange = await kubectl(
      ["patch", "sfpj", "rbac", "-n", "team-a", "--type=merge", "-p", '{"spec":{"training":{"rounds":3}}}'],
      cp.kubeconfigPath,
      { allowFailure: true },
    );
    assert.match(specChange.stderr, /failed calling webhook/);
  });

  it("helm uninstall keeps the CRD (and with it the jobs)", async () => {
    await operator?.stop();
    operator = undefined;
    await helm(["uninstall", RELEASE, "--namespace", NAMESPACE], { kubeconfigPath: cp.kubeconfigPath });
    const r = await kubectl(["get", "crd", "sfpromptjobs.sfprompt.io", "-o", "name"], cp.kubeconfigPath);
    assert.equal(r.stdout.trim(), "customresourcedefinition.apiextensions.k8s.io/sfpromptjobs.sfprompt.io");
    const jobs = await kubectl(["get", "sfpj", "-n", "team-a", "-o", "name"], cp.kubeconfigPath);
    assert.match(jobs.stdout, /sfpromptjob\.sfprompt\.io\/rbac/);
    const gone = await kubectl(["get", "deployment", RELEASE, "-n", NAMESPACE], cp.kubeconfigPath, { allowFailure: true });
    assert.notEqual(gone.code, 0);
  });
});

describe("a release limited to one namespace", () => {
  const release = "ns-op";
  const name = `${release}-sfprompt-operator`;
  const values = {
    "operator.watchNamespaces": ["team-b"],
    "crds.install": false,
    "webhook.enabled": false,
    "nats.bundled": false,
    "nats.url": "nats://127.0.0.1:1",
  };
  before(async () => {
    const set = Object.entries(values).flatMap(([k, v]) => ["--set-json", `${k}=${JSON.stringify(v)}`]);
    await helm(["install", release, CHART, "--namespace", NAMESPACE, ...set], { kubeconfigPath: cp.kubeconfigPath });
  });
  const as = `system:serviceaccount:${NAMESPACE}:${name}`;
  const grants: { name: string; args: string[]; allowed: boolean }[] = [
    { name: "create pods in the watched namespace", args: ["create", "pods", "-n", "team-b"], allowed: true },
    { name: "create pods elsewhere", args: ["create", "pods", "-n", "team-a"], allowed: false },
    { name: "patch pods in its own namespace (the leader label)", args: ["patch", "pods", "-n", NAMESPACE], allowed: true },
    { name: "patch pods in a namespace it neither watches nor runs in", args: ["patch", "pods", "-n", "team-a"], allowed: false },
    { name: "watch pods in its own namespace (changes of the leader label)", args: ["watch", "pods", "-n", NAMESPACE], allowed: true },
    { name: "watch pods in a namespace it neither watches nor runs in", args: ["watch", "pods", "-n", "team-a"], allowed: false },
    { name: "list secrets cluster-wide", args: ["list", "secrets", "--all-namespaces"], allowed: false },
    { name: "patch webhook configurations (it has none)", args: ["patch", "validatingwebhookconfigurations"], allowed: false },
  ];
  for (const g of grants) {
    it(`the ServiceAccount ${g.allowed ? "may" : "may not"} ${g.name}`, async () => {
      assert.equal(await canI(g.args, as), g.allowed);
    });
  }
  it("the operator, as that ServiceAccount, runs a job in its namespace", async () => {
    const env = { ...operatorEnv(await render(values, release)), POD_NAMESPACE: NAMESPACE, POD_NAME: "ns-op-0" };
    await createOperatorPods(["ns-op-0"], release, values);
    const config = parseConfig([], env);
    assert.deepEqual(config.namespaces, ["team-b"]);
    config.http = { host: "127.0.0.1", port: 0 };
    config.logLevel = "error";
    operator = await startOperator(config, { kubeConfig: await serviceAccountConfig(name), log });
    const job = { apiVersion: API_VERSION, kind: KIND, metadata: { name: "scoped", namespace: "team-b" }, spec: { clients: { count: 1 } } };
    await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, { input: JSON.stringify(job) });
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await waitFor(async () => (await core.listNamespacedPod({ namespace: "team-b" })).items.length === 1, {
      timeoutMs: 20_000,
      description: "the client pod in team-b",
    });
    const status = await waitFor(
      async () => {
        const r = await kubectl(["get", "sfpj", "scoped", "-n", "team-b", "-o", "jsonpath={.status.phase}"], cp.kubeconfigPath);
        return r.stdout || undefined;
      },
      { timeoutMs: 10_000, description: "a status written by the operator" },
    );
    assert.equal(status, "Pending");
    // Its pod is labelled with the Role in the release namespace, which it does not watch.
    await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ namespace: NAMESPACE, name: "ns-op-0" });
        return pod.metadata!.labels!["sfprompt.io/operator-role"] === "leader";
      },
      { timeoutMs: 30_000, description: "ns-op-0 labelled as the leader's pod" },
    );
  });
});
