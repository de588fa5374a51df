// Jobs the API server accepts but that are odd for their children: names with dots or a leading
// digit, pod fields the API server refuses, a spec the CRD lets through but zod does not.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "@sfprompt/kube-testing";
import type { RunningOperator } from "../../src/operator.js";
import { jobManifest } from "../fixtures.js";
import {
  createJob,
  podNames,
  runOperator,
  startWorld,
  testConfig,
  waitForJob,
  type World,
} from "./harness.js";

let world: World;
let operator: RunningOperator | undefined;

before(async () => {
  world = await startWorld();
  operator = await runOperator(world, testConfig(world));
});
after(async () => {
  await operator?.stop();
  await world?.stop();
});

test("jobs named with a dot or a leading digit get valid, distinct Service names and their client pods", async () => {
  const names = ["web.v2", "web-v2", "7up"];
  for (const name of names) await createJob(world, jobManifest(name, { clients: { count: 2 } }));
  const services = new Map<string, string>();
  for (const name of names) {
    const pods = await waitFor(
      async () => {
        const p = await podNames(world, name);
        return p.length === 2 ? p : undefined;
      },
      { timeoutMs: 15_000, description: `the client pods of ${name}` },
    );
    assert.deepEqual(pods, [`${name}-client-0`, `${name}-client-1`]);
    await waitForJob(world, name, (j) => j.status?.phase === "Pending", `${name} to get a status`);
    const svc = await world.core.listNamespacedService({
      namespace: "default",
      labelSelector: `sfprompt.io/job=${name}`,
    });
    assert.equal(svc.items.length, 1, `one Service for ${name}`);
    services.set(name, svc.items[0]!.metadata!.name!);
  }
  for (const s of services.values()) assert.match(s, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  assert.equal(services.get("web-v2"), "web-v2-server", "a name that is already a DNS-1035 label is kept");
  assert.equal(new Set(services.values()).size, names.length, "web.v2 and web-v2 do not share a Service");
});
