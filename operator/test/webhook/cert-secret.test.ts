// The generated certificate's life in its Secret against a real API server: created once, reused
// while fit, regenerated when not, one winner when replicas race, and a running webhook picking up
// a rotated Secret (new certificate served, new CA patched in) without a restart.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { AdmissionregistrationV1Api, CoreV1Api, type V1Secret } from "@kubernetes/client-node";
import { applyObjects, startControlPlane, waitFor, type ControlPlane } from "@sfprompt/kube-testing";
import { createLogger } from "../../src/log.js";
import { bundleFromSecret, ensureCertSecret } from "../../src/webhook/certs/cert-secret.js";
import { generateWebhookCerts, type WebhookCertBundle } from "../../src/webhook/certs/webhook-certs.js";
import { startWebhook } from "../../src/webhook/run-webhook.js";
import { parseWebhookConfig } from "../../src/webhook/webhook-config.js";

let cp: ControlPlane;
let core: CoreV1Api;
const NS = "default";
const hosts = ["127.0.0.1"];

before(async () => {
  cp = await startControlPlane();
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
});
after(() => cp?.stop());

const read = async (name: string): Promise<WebhookCertBundle> =>
  bundleFromSecret(await core.readNamespacedSecret({ namespace: NS, name }));

function replaceWith(name: string, secret: V1Secret, bundle: WebhookCertBundle): Promise<V1Secret> {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  return core.replaceNamespacedSecret({
    namespace: NS,
    name,
    body: {
      ...secret,
      data: { "ca.crt": b64(bundle.caPem), "tls.crt": b64(bundle.certPem), "tls.key": b64(bundle.keyPem) },
    },
  });
}

describe("ensureCertSecret", () => {
  it("creates the Secret once and then returns the stored set unchanged", async () => {
    const first = await ensureCertSecret(cp.kubeConfig, { namespace: NS, name: "once", hosts });
    const second = await ensureCertSecret(cp.kubeConfig, { namespace: NS, name: "once", hosts });
    assert.deepEqual(second, first);
    assert.deepEqual(await read("once"), first);
  });
  it("regenerates a set that does not cover the hosts asked for, replacing the Secret", async () => {
    const old = await ensureCertSecret(cp.kubeConfig, { namespace: NS, name: "hosts", hosts });
    const wider = ["127.0.0.1", "svc.ns.svc"];
    const fresh = await ensureCertSecret(cp.kubeConfig, { namespace: NS, name: "hosts", hosts: wider });
    assert.notEqual(fresh.caPem, old.caPem);
    assert.ok(new X509Certificate(fresh.certPem).checkHost("svc.ns.svc"));
    assert.deepEqual(await read("hosts"), fresh);
  });
  it("regenerates a set that expires within 30 days", async () => {
    const secret = await core.readNamespacedSecret({ namespace: NS, name: "once" });
    await replaceWith("once", secret, generateWebhookCerts({ hosts, validityDays: 20 }));
    const fresh = await ensureCertSecret(cp.kubeConfig, { namespace: NS, name: "once", hosts });
    const days = (new Date(new X509Certificate(fresh.certPem).validTo).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 3000, `${days} days`);
  });
  it("replicas racing to create the Secret end up with one and the same set", async () => {
    const racers = await Promise.all(
      [1, 2, 3, 4].map(() => ensureCertSecret(cp.kubeConfig, { namespace: NS, name: "race", hosts })),
    );
    const stored = await read("race");
    for (const r of racers) assert.deepEqual(r, stored);
  });
  it("replicas racing to replace an unfit Secret end up with one and the same set", async () => {
    const wider = ["127.0.0.1", "other.ns.svc"];
    const racers = await Promise.all(
      [1, 2, 3].map(() => ensureCertSecret(cp.kubeConfig, { namespace: NS, name: "race", hosts: wider })),
    );
    const stored = await read("race");
    for (const r of racers) assert.deepEqual(r, stored);
  });
});

function servedCert(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/healthz", ca, agent: false }, (res) => {
      const peer = (
        res.socket as unknown as { getPeerX509Certificate(): X509Certificate }
      ).getPeerX509Certificate();
      res.resume();
      resolve(peer.toString());
    });
    req.on("error", reject);
    req.end();
  });
}

describe("a running webhook", () => {
  it("serves a rotated Secret's certificate and patches its CA in, without a restart", async () => {
    await applyObjects(cp.kubeConfig, [
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: "rotation" },
        webhooks: [
          {
            name: "validate.sfpromptjobs.sfprompt.io",
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            clientConfig: { url: "https://127.0.0.1:1/validate-sfpromptjob" },
            rules: [
              {
                apiGroups: ["sfprompt.io"],
                apiVersions: ["v1alpha1"],
                operations: ["CREATE"],
                resources: ["x"],
              },
            ],
          },
        ],
      } as never,
    ]);
    const config = parseWebhookConfig(
      [
        "--webhook-namespace=default",
        "--webhook-cert-secret=rotating",
        "--webhook-validating-configurations=rotation",
      ],
      {},
    );
    const webhook = await startWebhook(
      { ...config, host: "127.0.0.1", port: 0, hosts: [...config.hosts, "127.0.0.1"], refreshMs: 200 },
      { kubeConfig: cp.kubeConfig, log: createLogger({ level: "error" }) },
    );
    try {
      const first = await read("rotating");
      assert.equal(
        await servedCert(webhook.port, first.caPem),
        new X509Certificate(first.certPem).toString(),
      );
      const rotated = generateWebhookCerts({ hosts: [...config.hosts, "127.0.0.1"] });
      await replaceWith(
        "rotating",
        await core.readNamespacedSecret({ namespace: NS, name: "rotating" }),
        rotated,
      );
      const admission = cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
      await waitFor(
        async () =>
          (await admission.readValidatingWebhookConfiguration({ name: "rotation" })).webhooks![0]!
            .clientConfig.caBundle === Buffer.from(rotated.caPem).toString("base64"),
        { timeoutMs: 10_000, description: "the rotated CA in caBundle" },
      );
      const served = await waitFor(() => servedCert(webhook.port, rotated.caPem), {
        timeoutMs: 10_000,
        description: "the rotated certificate served",
      });
      assert.equal(served, new X509Certificate(rotated.certPem).toString());
    } finally {
      await webhook.stop();
    }
  });
});
