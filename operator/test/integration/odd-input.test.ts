// Jobs the API server accepts but that are odd for their children: names with dots or a leading
// digit, pod fields the API server refuses, a spec the CRD lets through but zod does not.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "@sfprompt/kube-testing";
import type { RunningOperator } from "../../src/operator.js";
import { jobManifest, type SpecInput } from "../fixtures.js";
import {
  condition,
  createJob,
  patchJobSpec,
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

const refused: { name: string; job: string; spec: SpecInput; field: RegExp; fix: Record<string, unknown> }[] =
  [
    {
      name: "a server whose CPU request exceeds its limit",
      job: "over-limit",
      spec: {
        clients: { count: 1 },
        server: { resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } },
      },
      field:
        /Deployment default\/over-limit-server .*resources\.requests.*must be less than or equal to cpu limit/,
      fix: { server: { resources: { requests: { cpu: "1" }, limits: { cpu: "1" } } } },
    },
    {
      name: "client pods with an Exists toleration that has a value",
      job: "odd-toleration",
      spec: { clients: { count: 1, tolerations: [{ key: "edge", operator: "Exists", value: "x" }] } },
      field: /Pod default\/odd-toleration-client-0 .*tolerations\[\d+\]\.operator/,
      fix: { clients: { tolerations: [{ key: "edge", operator: "Exists" }] } },
    },
  ];

for (const c of refused) {
  test(`${c.name}: the API server's refusal reaches the status and an event, and a fixed spec clears it`, async () => {
    await createJob(world, jobManifest(c.job, c.spec));
    const j = await waitForJob(
      world,
      c.job,
      (x) => condition(x, "Created")?.status === "False",
      `${c.job} to report the refusal`,
    );
    const created = condition(j, "Created")!;
    assert.equal(created.reason, "ChildRejected");
    assert.match(created.message, c.field);
    assert.match(created.message, /change the job's spec/);
    const events = await world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${c.job},reason=ChildRejected`,
    });
    assert.equal(events.items[0]?.type, "Warning");
    assert.equal(events.items[0]?.message, created.message);

    await patchJobSpec(world, c.job, c.fix);
    const fixed = await waitForJob(
      world,
      c.job,
      (x) => condition(x, "Created")?.status === "True",
      `${c.job} to apply its children after the fix`,
    );
    assert.equal(condition(fixed, "Created")!.reason, "ChildrenApplied");
    assert.deepEqual(await podNames(world, c.job), [`${c.job}-client-0`]);
  });
}
