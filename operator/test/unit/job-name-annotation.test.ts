// The job's full name on its pods (sfprompt.io/job-name), which the chart's PodMonitor turns into the
// pods' sfprompt_job: present whatever the name's length, and part of no digest the operator compares.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubernetesObject, V1Deployment, V1Pod } from "@kubernetes/client-node";
import { desiredChildren } from "../../src/desired/children.js";
import { planClients } from "../../src/desired/restart-plan.js";
import { DEFAULT_CHILD_SETTINGS } from "../../src/desired/settings.js";
import { ANNOTATION_JOB_NAME, ANNOTATION_POD_SPEC_HASH, LABEL_JOB, digest } from "../../src/names.js";
import { clientsConfigCondition } from "../../src/status/clients-config.js";
import { job, refOf } from "../fixtures.js";

const LONG = `mnist.${"nightly-".repeat(12)}run`;

function children(
  name: string,
  pods: V1Pod[] = [],
): { apply: KubernetesObject[]; plans: ReturnType<typeof planClients> } {
  const j = job(name, { clients: { count: 2 } });
  const plans = planClients(2, pods, DEFAULT_CHILD_SETTINGS.clientRestart, 0);
  const out = desiredChildren({
    job: j,
    ref: refOf(j),
    settings: DEFAULT_CHILD_SETTINGS,
    jobKey: "k".repeat(64),
    lifecycle: { suspended: false, expired: false },
    plans,
  });
  return { apply: out.apply, plans };
}

const ofKind = <T>(objs: KubernetesObject[], kind: string): T[] => objs.filter((o) => o.kind === kind) as T[];

for (const name of ["demo", LONG])
  test(`a job named ${name.length > 63 ? "past" : "within"} 63 characters: every pod it makes carries its full name`, () => {
    const { apply } = children(name);
    const server = ofKind<V1Deployment>(apply, "Deployment")[0]!.spec!.template.metadata!;
    const clients = ofKind<V1Pod>(apply, "Pod").map((p) => p.metadata!);
    assert.equal(clients.length, 2);
    for (const meta of [server, ...clients]) {
      assert.equal(meta.annotations?.[ANNOTATION_JOB_NAME], name);
      // the label is a label value: the long name's is cut and hashed, so it cannot give the name
      assert.equal(meta.labels?.[LABEL_JOB] === name, name.length <= 63);
    }
  });

test("the name is in no digest: a running client pod from before the annotation counts as current", () => {
  const desired = ofKind<V1Pod>(children(LONG).apply, "Pod");
  const before: V1Pod[] = desired.map((p) => {
    const { [ANNOTATION_JOB_NAME]: _added, ...annotations } = p.metadata!.annotations!;
    return { ...p, metadata: { ...p.metadata, annotations }, status: { phase: "Running" } };
  });
  for (const p of desired)
    assert.equal(p.metadata!.annotations![ANNOTATION_POD_SPEC_HASH], digest(JSON.stringify(p.spec)));
  const now = children(LONG, before);
  assert.deepEqual(
    ofKind<V1Pod>(now.apply, "Pod").map((p) => p.metadata!.name),
    before.map((p) => p.metadata!.name),
    "the same pods, none replaced",
  );
  const condition = clientsConfigCondition(now.plans, now.apply);
  assert.equal(condition.status, "True", condition.message);
  assert.equal(condition.reason, "AllCurrent");
});
