// The harness against a real etcd + kube-apiserver: objects round-trip, server-side apply is
// idempotent, and kubectl and helm talk to the server.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type V1ConfigMap } from "@kubernetes/client-node";
import {
  KUBE_VERSION,
  applyYaml,
  helm,
  kubectl,
  startControlPlane,
  type ControlPlane,
} from "../src/index.js";

const namespaceYaml = (name: string): string =>
  `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

const configMapYaml = (ns: string, value: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\ndata:\n  mode: ${value}\n`;

describe("a started control plane", () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  before(async () => {
    cp = await startControlPlane();
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(async () => {
    const dir = cp?.dir;
    await cp?.stop();
    if (dir) assert.equal(existsSync(dir), false, "stop() removes the temp folder");
  });

  it("serves on loopback with the kubeconfig it wrote", () => {
    assert.match(cp.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(cp.kubeConfig.getCurrentCluster()?.server, cp.apiUrl);
    assert.equal(existsSync(cp.kubeconfigPath), true);
  });

  it("stores a namespace and a ConfigMap and reads them back", async () => {
    await core.createNamespace({ body: { metadata: { name: "roundtrip" } } });
    await core.createNamespacedConfigMap({
      namespace: "roundtrip",
      body: { metadata: { name: "cm", labels: { app: "t" } }, data: { a: "1", b: "two" } },
    });
    const ns = await core.readNamespace({ name: "roundtrip" });
    assert.equal(ns.status?.phase, "Active");
    const cm = await core.readNamespacedConfigMap({ name: "cm", namespace: "roundtrip" });
    assert.deepEqual(cm.data, { a: "1", b: "two" });
    assert.deepEqual(cm.metadata?.labels, { app: "t" });
  });

  it("server-side apply of the same manifest twice changes nothing the second time", async () => {
    await applyYaml(cp.kubeConfig, namespaceYaml("ssa"));
    const [first] = (await applyYaml(cp.kubeConfig, configMapYaml("ssa", "fast"))) as V1ConfigMap[];
    const [second] = (await applyYaml(cp.kubeConfig, configMapYaml("ssa", "fast"))) as V1ConfigMap[];
    assert.equal(second?.metadata?.resourceVersion, first?.metadata?.resourceVersion);
    const managers = second?.metadata?.managedFields?.map((f) => `${f.manager}/${f.operation}`);
    assert.deepEqual(managers, ["sfprompt-test/Apply"]);
    const [third] = (await applyYaml(cp.kubeConfig, configMapYaml("ssa", "slow"))) as V1ConfigMap[];
    assert.notEqual(third?.metadata?.resourceVersion, first?.metadata?.resourceVersion);
    const stored = await core.readNamespacedConfigMap({ name: "settings", namespace: "ssa" });
    assert.deepEqual(stored.data, { mode: "slow" });
  });

  it("a CRD and an object of its kind in one YAML text apply in one call, and explain works at once", async () => {
    const text = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.test.sfprompt.io
spec:
  group: test.sfprompt.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - {rule: "self.size <= 10", message: "size is at most 10"}
              properties:
                size: {type: integer, minimum: 1}
                labels: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: test.sfprompt.io/v1
kind: Widget
metadata:
  name: w1
  namespace: default
spec:
  size: 3
`;
    const [, widget] = await applyYaml(cp.kubeConfig, text);
    assert.equal(widget?.kind, "Widget");
    assert.ok(widget?.metadata?.uid, "the Widget was stored");
    const listed = await kubectl(
      ["get", "widgets", "-n", "default", "-o", "jsonpath={.items[*].spec.size}"],
      cp.kubeconfigPath,
    );
    assert.equal(listed.stdout, "3");
    // applyYaml waited for the OpenAPI publication too, so explain works at once.
    const explained = await kubectl(["explain", "widgets.spec"], cp.kubeconfigPath);
    assert.match(explained.stdout, /size\s+<integer>/);
    const bad = await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, {
      input:
        "apiVersion: test.sfprompt.io/v1\nkind: Widget\nmetadata: {name: w2, namespace: default}\nspec: {size: 0}\n",
      allowFailure: true,
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.size/);
    // x-kubernetes-* keys survive applyYaml (a typed client's model would drop them).
    const big = await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, {
      input:
        "apiVersion: test.sfprompt.io/v1\nkind: Widget\nmetadata: {name: w3, namespace: default}\nspec: {size: 11}\n",
      allowFailure: true,
    });
    assert.match(big.stderr, /size is at most 10/);
  });

  it("kubectl reports the server version the binaries were built at and lists what was created", async () => {
    const v = await kubectl(["version", "-o", "json"], cp.kubeconfigPath);
    const parsed = JSON.parse(v.stdout) as { serverVersion?: { gitVersion?: string } };
    assert.equal(parsed.serverVersion?.gitVersion, `v${KUBE_VERSION}`);
    await applyYaml(cp.kubeConfig, namespaceYaml("listed"));
    const names = await kubectl(
      ["get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}"],
      cp.kubeconfigPath,
    );
    assert.ok(names.stdout.split(" ").includes("listed"), names.stdout);
  });

  it("kubectl failures resolve with the exit code and stderr when allowed", async () => {
    const r = await kubectl(["get", "configmap", "absent", "-n", "default"], cp.kubeconfigPath, {
      allowFailure: true,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not found/);
  });

  it("a chart rendered by helm is accepted by the API server in a server-side dry run", async () => {
    const work = mkdtempSync(join(tmpdir(), "kube-testing-chart-"));
    try {
      await helm(["create", join(work, "demo")]);
      const rendered = await helm(["template", "rel", join(work, "demo"), "--namespace", "default"]);
      const applied = await kubectl(["apply", "--dry-run=server", "-f", "-"], cp.kubeconfigPath, {
        input: rendered.stdout,
      });
      assert.match(applied.stdout, /deployment\.apps\/rel-demo created \(server dry run\)/);
      const absent = await kubectl(["get", "deployment", "rel-demo"], cp.kubeconfigPath, {
        allowFailure: true,
      });
      assert.notEqual(absent.code, 0, "a dry run stores nothing");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("with SFPROMPT_USE_EXISTING_CLUSTER=1 the harness uses KUBECONFIG's cluster and leaves it running", async () => {
    const saved = { use: process.env.SFPROMPT_USE_EXISTING_CLUSTER, kc: process.env.KUBECONFIG };
    process.env.SFPROMPT_USE_EXISTING_CLUSTER = "1";
    process.env.KUBECONFIG = cp.kubeconfigPath;
    try {
      const existing = await startControlPlane({ controllerManager: true });
      assert.equal(existing.external, true);
      assert.equal(existing.apiUrl, cp.apiUrl);
      assert.equal(existing.kubeconfigPath, cp.kubeconfigPath);
      await existing.stop();
      const ns = await existing.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: "default" });
      assert.equal(ns.metadata?.name, "default", "the cluster still answers after stop()");
    } finally {
      for (const [k, v] of [
        ["SFPROMPT_USE_EXISTING_CLUSTER", saved.use],
        ["KUBECONFIG", saved.kc],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
