// The Helm chart without a cluster: helm lint, values.schema.json refusing bad values, the CRD
// template carrying exactly the generated CRD, and the operator's flags wired from values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildCrd } from "@sfprompt/api";
import { helm } from "@sfprompt/kube-testing";
import { parseConfig } from "../../src/config.js";
import { parseWebhookConfig } from "../../src/webhook/webhook-config.js";
import { CHART, NAMESPACE, find, operatorEnv, render, renderRaw } from "./chart.js";

describe("helm lint", () => {
  it("passes with --strict", async () => {
    const r = await helm(["lint", "--strict", CHART], { allowFailure: true });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

describe("values.schema.json", () => {
  const bad: { name: string; values: Record<string, unknown>; error: RegExp }[] = [
    { name: "a misspelt key", values: { "operator.replicass": 2 }, error: /\/operator.*replicass/ },
    { name: "an unknown cert mode", values: { "webhook.certs.mode": "acme" }, error: /\/webhook\/certs\/mode/ },
    { name: "secret mode without a Secret name", values: { "webhook.certs.mode": "secret" }, error: /\/webhook\/certs\/secretName/ },
    { name: "an external NATS without a URL", values: { "nats.bundled": false }, error: /\/nats\/url/ },
    { name: "an HTTP URL for NATS", values: { "nats.url": "http://nats:4222" }, error: /\/nats\/url/ },
    { name: "a failure policy that does not exist", values: { "webhook.failurePolicy": "Retry" }, error: /\/webhook\/failurePolicy/ },
    { name: "a namespace with capitals", values: { "operator.watchNamespaces": ["Team-A"] }, error: /\/operator\/watchNamespaces\/0/ },
    { name: "a string replica count", values: { "operator.replicas": "two" }, error: /\/operator\/replicas/ },
    { name: "an unknown pull policy", values: { "jobImages.pullPolicy": "Sometimes" }, error: /\/jobImages\/pullPolicy/ },
    { name: "a memory limit that is no quantity", values: { "operator.resources.limits.memory": "lots" }, error: /\/operator\/resources\/limits\/memory/ },
    { name: "a NATS payload without a unit format", values: { "nats.maxPayload": "1 megabyte" }, error: /\/nats\/maxPayload/ },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}, naming the value`, async () => {
      const r = await renderRaw(b.values);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, b.error);
    });
  }
});

describe("rendered objects", () => {
  it("the CRD template is exactly the CRD generated from the zod schemas", async () => {
    const crd = find(await render(), "CustomResourceDefinition");
    assert.deepEqual(crd, JSON.parse(JSON.stringify(buildCrd())));
  });
  it("crds.install=false leaves the CRD out", async () => {
    assert.ok(!(await render({ "crds.install": false })).some((o) => o.kind === "CustomResourceDefinition"));
  });
  it("the operator's environment parses into the configuration the values ask for", async () => {
    const env = operatorEnv(
      await render({
        "operator.watchNamespaces": ["team-a", "team-b"],
        "image.registry": "",
        "jobImages.server": { registry: "", repository: "sfprompt/server", tag: "dev" },
        "operator.edgeNodeLabel": "",
        "operator.finishedClientGraceSeconds": 45,
      }),
    );
    const config = parseConfig([], { ...env, POD_NAMESPACE: NAMESPACE, POD_NAME: "op-0" });
    assert.deepEqual(config.namespaces, ["team-a", "team-b"]);
    assert.equal(config.children.serverImage, "sfprompt/server:dev");
    assert.equal(config.children.clientImage, "ghcr.io/sfprompt/client:0.1.0");
    assert.equal(config.children.gpuServerImage, "");
    assert.equal(config.children.natsUrl, `nats://sfprompt-operator-nats.${NAMESPACE}.svc:4222`);
    assert.equal(config.children.edgeNodeLabel, "");
    assert.equal(config.children.finishedClientGraceMs, 45_000);
    assert.deepEqual([config.leaderElection.name, config.leaderElection.namespace], ["sfprompt-operator", NAMESPACE]);
    const webhook = parseWebhookConfig([], { ...env, POD_NAMESPACE: NAMESPACE });
    assert.equal(webhook.enabled, true);
    assert.deepEqual(webhook.certs, { mode: "generate", secretNamespace: NAMESPACE, secretName: "sfprompt-operator-webhook-cert" });
    assert.ok(webhook.hosts.includes(`sfprompt-operator-webhook.${NAMESPACE}.svc`));
    assert.deepEqual(webhook.caBundle, { validating: ["sfprompt-operator-validating"], mutating: ["sfprompt-operator-mutating"] });
  });
  it("jobImages.serverGpu reaches the operator as the GPU server image (the chart's version by default)", async () => {
    const env = operatorEnv(
      await render({ "jobImages.serverGpu": { registry: "reg.local", repository: "sfprompt/server-cuda", tag: "" } }),
    );
    const config = parseConfig([], { ...env, POD_NAMESPACE: NAMESPACE, POD_NAME: "op-0" });
    assert.equal(config.children.gpuServerImage, "reg.local/sfprompt/server-cuda:0.1.0");
    assert.equal(config.children.serverImage, "ghcr.io/sfprompt/server:0.1.0");
  });
  it("with watched namespaces, job permissions are Roles there and the webhooks only match them", async () => {
    const objects = await render({ "operator.watchNamespaces": ["team-a", "team-b"] });
    const roles = objects.filter((o) => o.kind === "Role" && o.metadata.name === "sfprompt-operator-jobs");
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ["team-a", "team-b"]);
    assert.ok(!objects.some((o) => o.kind === "ClusterRole" && o.metadata.name === "sfprompt-operator-jobs"));
    const v = find(objects, "ValidatingWebhookConfiguration") as unknown as {
      webhooks: { namespaceSelector: { matchExpressions: { values: string[] }[] } }[];
    };
    assert.deepEqual(v.webhooks[0]!.namespaceSelector.matchExpressions[0]!.values, ["team-a", "team-b"]);
  });
  it("secret mode mounts the Secret and, with a caBundle given, neither patches nor may patch", async () => {
    const objects = await render({
      "webhook.certs.mode": "secret",
      "webhook.certs.secretName": "my-cert",
      "webhook.certs.caBundle": Buffer.from("pem").toString("base64"),
    });
    const env = operatorEnv(objects);
    assert.equal(env.SFPROMPT_WEBHOOK_CERT_MODE, "dir");
    assert.equal(env.SFPROMPT_WEBHOOK_VALIDATING_CONFIGURATIONS, undefined);
    assert.ok(!objects.some((o) => o.metadata.name === "sfprompt-operator-webhook-ca"));
    const text = JSON.stringify(find(objects, "Deployment"));
    assert.match(text, /"secretName":"my-cert"/);
    const v = find(objects, "MutatingWebhookConfiguration") as unknown as { webhooks: { clientConfig: { caBundle: string } }[] };
    assert.equal(v.webhooks[0]!.clientConfig.caBundle, Buffer.from("pem").toString("base64"));
  });
  it("the operator runs as non-root on a read-only root filesystem, probed on /healthz and /readyz", async () => {
    const d = find(await render(), "Deployment") as unknown as {
      spec: { template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: Record<string, never>[] } } };
    };
    const c = d.spec.template.spec.containers[0] as unknown as {
      securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
      livenessProbe: { httpGet: { path: string } };
      readinessProbe: { httpGet: { path: string } };
      startupProbe: { httpGet: { path: string; scheme: string } };
    };
    assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.deepEqual([c.securityContext.readOnlyRootFilesystem, c.securityContext.allowPrivilegeEscalation], [true, false]);
    assert.deepEqual([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ["/healthz", "/readyz"]);
    assert.deepEqual([c.startupProbe.httpGet.path, c.startupProbe.httpGet.scheme], ["/readyz", "HTTPS"]);
  });
  it("an external NATS drops the bundled one and reaches the operator as its URL", async () => {
    const objects = await render({ "nats.bundled": false, "nats.url": "nats://nats.infra.svc:4222" });
    assert.ok(!objects.some((o) => o.kind === "StatefulSet"));
    assert.equal(operatorEnv(objects).SFPROMPT_NATS_URL, "nats://nats.infra.svc:4222");
  });
});
