// The installed CRD without its quorum-vs-fraction rule, as on a cluster whose CRD predates the rule
// and runs no webhook: the one way a spec that the API refuses (InvalidSpec) reaches the operator.
import assert from "node:assert/strict";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "./fixtures.js";
import type { World } from "./integration/harness.js";

/**
 * Takes the quorum-vs-fraction rule out of the installed CRD, as on a cluster whose CRD predates it
 * (crds.install: false and an upgraded operator) and runs no webhook: the one way a spec that the API
 * refuses reaches the operator.
 */
export async function installOlderCrd(world: World): Promise<void> {
  const crd = "sfpromptjobs.sfprompt.io";
  const path = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/x-kubernetes-validations";
  const got = await kubectl(["get", "crd", crd, "-o", "json"], world.cp.kubeconfigPath);
  const rules = (
    JSON.parse(got.stdout) as {
      spec: {
        versions: { schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }[];
      };
    }
  ).spec.versions[0]!.schema.openAPIV3Schema.properties.spec["x-kubernetes-validations"] as {
    rule: string;
  }[];
  const i = rules.findIndex((r) => r.rule.includes("clients.perRound.fraction *"));
  assert.ok(i >= 0, "the CRD has the quorum-vs-fraction rule");
  const patch = [
    { op: "test", path: `${path}/${i}/rule`, value: rules[i]!.rule },
    { op: "remove", path: `${path}/${i}` },
  ];
  await kubectl(["patch", "crd", crd, "--type=json", "-p", JSON.stringify(patch)], world.cp.kubeconfigPath);
  // The API server serves the changed schema a moment later: wait until it accepts such a spec.
  const probe = jobManifest("probe", {
    clients: { count: 4, perRound: { fraction: 0.5 } },
    training: { quorum: { count: 3 } },
  });
  await waitFor(
    async () =>
      (
        await kubectl(["create", "--dry-run=server", "-f", "-"], world.cp.kubeconfigPath, {
          input: JSON.stringify(probe),
          allowFailure: true,
        })
      ).code === 0,
    { timeoutMs: 10_000, description: "the older CRD to be served" },
  );
}
