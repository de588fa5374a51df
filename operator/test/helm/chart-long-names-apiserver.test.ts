// The chart's names for the longest and oddest release names against a real kube-apiserver (ADR
// 0015, amendment 5): `kubectl apply --dry-run=server` accepts everything the chart renders for a
// 53-character release name, one with dots and a leading digit, and a 63-character fullnameOverride,
// with the dashboard on. chart-long-names.test.ts checks the rules the API server does not (the
// StatefulSet's 52 characters, uniqueness, cross-references).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { kubectl, startControlPlane, type ControlPlane } from "@sfprompt/kube-testing";
import { NAMESPACE, renderText } from "./chart.js";

let cp: ControlPlane;

before(async () => {
  cp = await startControlPlane();
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
});
after(async () => {
  await cp?.stop();
});

const CASES: { name: string; release: string; values: Record<string, unknown> }[] = [
  { name: "a 53-character release name", release: `edge-site-${"a".repeat(43)}`, values: {} },
  { name: "a release name with dots that starts with a digit", release: "1.edge.site-a", values: {} },
  { name: "a release name of digits, which YAML reads as a number", release: "123", values: {} },
  { name: "a 63-character fullnameOverride", release: "sfprompt-operator", values: { fullnameOverride: "c".repeat(63) } },
];

describe("helm template | kubectl apply --dry-run=server with long and odd names", () => {
  for (const c of CASES) {
    it(`accepts every object for ${c.name}, the four Services among them`, async () => {
      const text = await renderText({ ...c.values, "metrics.grafanaDashboard.enabled": true }, c.release);
      const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], cp.kubeconfigPath, { input: text, allowFailure: true });
      assert.equal(r.code, 0, r.stderr);
      const services = r.stdout.match(/^service\/\S+ created \(server dry run\)$/gm) ?? [];
      assert.equal(new Set(services).size, 4, r.stdout);
    });
  }
});
