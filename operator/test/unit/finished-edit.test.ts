// The answer to spec edits of a finished job (ADR 0034, amendment 1) and the ClientsConfigCurrent
// condition (ADR 0040, amendment 1), as pure functions of a job, its last status and its children.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1ConfigMap, V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { SFPromptJob, Status } from "@sfprompt/api";
import { changedFields, recordedSpec } from "../../src/desired/spec-record.js";
import { finishedEditEvent } from "../../src/reconcile/finished-edit.js";
import { clientsConfigCondition } from "../../src/status/clients-config.js";
import { clientPod, job, type SpecInput } from "../fixtures.js";
import { childrenFor } from "../reconcile-children.js";

const NOW = new Date("2026-01-01T01:00:00.000Z");
const BASE: SpecInput = { clients: { count: 2 }, training: { rounds: 2 } };

const at = (spec: SpecInput, generation: number): SFPromptJob => {
  const j = job("demo", spec);
  return { ...j, metadata: { ...j.metadata, generation } };
};

/** The status of a job that succeeded at generation 1 after 2 rounds. */
const succeeded = (checkpoint = true): Status =>
  ({
    phase: "Succeeded",
    observedGeneration: 1,
    round: 2,
    rounds: 2,
    conditions: [
      {
        type: "Succeeded",
        status: "True",
        reason: "TrainingCompleted",
        message: "",
        lastTransitionTime: NOW.toISOString(),
      },
    ],
    ...(checkpoint ? { lastCheckpoint: { round: 2, object: "checkpoints/round-000002" } } : {}),
  }) as Status;

/** The children the reconcile applies for `j` with status `previous` and the observed ConfigMap `cm`. */
function children(
  j: SFPromptJob,
  previous: Status | undefined,
  cm?: V1ConfigMap,
  pods: V1Pod[] = [],
  deployment?: V1Deployment,
) {
  return childrenFor({ job: j, now: NOW, previous, pods, recorded: recordedSpec(cm), deployment });
}

/** The ConfigMap the reconcile in which the job finished applied. */
function finishedConfigMap(j: SFPromptJob): V1ConfigMap {
  // a finished job whose ConfigMap carries no record yet gets it, as in the reconcile it finished in
  const out = children(j, succeeded());
  return out.apply.find((o) => o.kind === "ConfigMap") as V1ConfigMap;
}

describe("a finished job's ConfigMap", () => {
  it("records the spec it finished with, and is kept as it is afterwards", () => {
    const cm = finishedConfigMap(at(BASE, 1));
    assert.ok(recordedSpec(cm), "the record is on the ConfigMap applied when the job finished");
    const later = children(at({ ...BASE, training: { rounds: 5 } }, 2), succeeded(), cm);
    assert.equal(later.apply.filter((o) => o.kind === "ConfigMap").length, 0, "not applied again");
    assert.ok(
      later.keep.some((k) => k.kind === "ConfigMap"),
      "kept, not pruned",
    );
  });

  it("keeps the server Deployment too once it is at 0 replicas and the record is there", () => {
    const finishing = children(at(BASE, 1), succeeded());
    const cm = finishing.apply.find((o) => o.kind === "ConfigMap") as V1ConfigMap;
    const server = finishing.apply.find((o) => o.kind === "Deployment") as V1Deployment;
    assert.equal(server.spec!.replicas, 0);
    const edit = at({ ...BASE, training: { rounds: 2, optimizer: { learningRate: 0.5 } } }, 2);
    const later = children(edit, succeeded(), cm, [], server);
    assert.equal(later.apply.filter((o) => o.kind === "Deployment").length, 0, "not applied again");
    assert.ok(
      later.keep.some((k) => k.kind === "Deployment"),
      "kept, not pruned",
    );
    const noRecord = children(edit, succeeded(), undefined, [], server);
    assert.equal(noRecord.apply.filter((o) => o.kind === "Deployment").length, 1, "applied without a record");
  });

  it("is applied as before while the job runs, without a record", () => {
    const out = children(at(BASE, 1), undefined);
    const cm = out.apply.find((o) => o.kind === "ConfigMap") as V1ConfigMap;
    assert.equal(recordedSpec(cm), undefined);
  });
});

describe("fields that differ from the record", () => {
  const record = recordedSpec(finishedConfigMap(at(BASE, 1)))!;
  const cases: { name: string; spec: SpecInput; fields: string[] }[] = [
    { name: "the same spec differs in nothing", spec: BASE, fields: [] },
    {
      name: "the TTL, which a finished job follows, is not counted",
      spec: { ...BASE, ttlSecondsAfterFinished: 60 },
      fields: [],
    },
    {
      name: "a node selector is named two levels deep",
      spec: { ...BASE, clients: { count: 2, nodeSelector: { site: "b" } } },
      fields: ["spec.clients.nodeSelector"],
    },
    {
      name: "an optimizer and a suspend edit are both named",
      spec: { ...BASE, training: { rounds: 2, optimizer: { learningRate: 0.5 } }, suspend: true },
      fields: ["spec.training.optimizer", "spec.suspend"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(changedFields(record, at(c.spec, 2).spec).sort(), c.fields.sort()));
  }
});

describe("the FinishedSpecChangeIgnored Warning", () => {
  const cm = finishedConfigMap(at(BASE, 1));
  const cases: { name: string; spec: SpecInput; cm?: V1ConfigMap; checkpoint?: boolean; says?: RegExp[] }[] =
    [
      {
        name: "rounds keep their old → new wording, with resumeFrom advice",
        spec: { ...BASE, training: { rounds: 5 } },
        cm,
        says: [
          /spec\.training\.rounds 2 → 5 differs/,
          /status\.rounds stays 2/,
          /resumeFrom\.job: demo/,
          /round 2/,
        ],
      },
      {
        name: "without a checkpoint the new job starts at round 1",
        spec: { ...BASE, server: { env: [{ name: "A", value: "1" }] } },
        cm,
        checkpoint: false,
        says: [/spec\.server\.env differs/, /no checkpoint/, /starts at round 1/],
      },
      { name: "a TTL edit gets none", spec: { ...BASE, ttlSecondsAfterFinished: 60 }, cm },
      {
        name: "a job finished without a record: a rounds edit is still named",
        spec: { ...BASE, training: { rounds: 5 } },
        says: [/spec\.training\.rounds 2 → 5/],
      },
      {
        name: "a job finished without a record: another edit is answered, saying the fields are not known",
        spec: { ...BASE, clients: { count: 2, nodeSelector: { site: "b" } } },
        says: [/not known/, /create a new job/],
      },
    ];
  for (const c of cases) {
    it(c.name, () => {
      const e = finishedEditEvent({
        previous: succeeded(c.checkpoint),
        job: at(c.spec, 2),
        recorded: recordedSpec(c.cm),
      });
      if (!c.says) return assert.equal(e, undefined);
      assert.equal(e?.type, "Warning");
      for (const re of c.says) assert.match(e.message, re);
    });
  }

  it("is not repeated once the edit is observed", () => {
    const seen = { ...succeeded(), observedGeneration: 2 };
    assert.equal(
      finishedEditEvent({
        previous: seen,
        job: at({ ...BASE, training: { rounds: 5 } }, 2),
        recorded: recordedSpec(cm),
      }),
      undefined,
    );
  });
});

describe("ClientsConfigCurrent", () => {
  const running = (j: SFPromptJob): V1Pod[] =>
    (children(j, undefined).apply.filter((o) => o.kind === "Pod") as V1Pod[]).map((p) => ({
      ...p,
      metadata: { ...p.metadata, creationTimestamp: NOW },
      status: { phase: "Running" },
    }));
  const cases: { name: string; spec: SpecInput; status: string; reason: string; says?: RegExp }[] = [
    { name: "pods of the current spec", spec: BASE, status: "True", reason: "AllCurrent" },
    {
      name: "an optimizer edit leaves both on an older run config",
      spec: { ...BASE, training: { rounds: 2, optimizer: { learningRate: 0.5 } } },
      status: "False",
      reason: "ClientPodsOutdated",
      says: /2 of 2 running client pods .*older run config: clients 0, 1/,
    },
    {
      name: "an env edit leaves both on an older pod spec",
      spec: { ...BASE, clients: { count: 2, env: [{ name: "A", value: "1" }] } },
      status: "False",
      reason: "ClientPodsOutdated",
      says: /older pod spec: clients 0, 1/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pods = running(at(BASE, 1));
      const now = children(at(c.spec, 2), undefined, undefined, pods);
      const cond = clientsConfigCondition(now.plans, now.apply);
      assert.deepEqual([cond.status, cond.reason], [c.status, c.reason]);
      if (c.says) assert.match(cond.message, c.says);
    });
  }

  it("says no client runs when none does", () => {
    const pods = [clientPod({ index: 0, phase: "Pending" })];
    const now = children(at(BASE, 1), undefined, undefined, pods);
    assert.equal(clientsConfigCondition(now.plans, now.apply).reason, "NoRunningClients");
  });
});
