// The validating webhook's warnings on allowed updates (ADR 0034 and 0040, amendments 2): a finished
// job's edit is ignored, running client pods keep the old spec; and that the client warning agrees
// with the ClientsConfigCurrent condition the operator computes for the same edit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { applyDefaults } from "@sfprompt/api";
import { jobWith, type Json } from "../../../packages/api/test/helpers/builders.js";
import { desiredChildren } from "../../src/desired/children.js";
import { planClients } from "../../src/desired/restart-plan.js";
import { DEFAULT_CHILD_SETTINGS } from "../../src/desired/settings.js";
import { clientsConfigCondition } from "../../src/status/clients-config.js";
import { decideLifecycle } from "../../src/status/lifecycle.js";
import { validateJob } from "../../src/webhook/admit.js";
import { readReview } from "../../src/webhook/admission-review.js";
import { WARNING_LENGTH, fitList } from "../../src/webhook/edit-warnings.js";
import { refOf } from "../fixtures.js";
import { reviewOf } from "./review-builders.js";

const BASE: Json = { clients: { count: 2 }, training: { rounds: 4 } };
const NOW = new Date("2026-01-01T01:00:00.000Z");

const condition = (type: string, reason: string) => ({
  type,
  status: "True",
  reason,
  message: "",
  lastTransitionTime: NOW.toISOString(),
});
const finished = (phase: string, reason: string, checkpointRound?: number): Json => ({
  phase,
  conditions: [condition(phase, reason)],
  ...(checkpointRound === undefined
    ? {}
    : { lastCheckpoint: { round: checkpointRound, object: `checkpoints/round-${checkpointRound}` } }),
});
const running = (phases: string[]): Json => ({
  phase: "Running",
  clients: phases.map((phase, index) => ({ index, phase })),
});

/** The warnings on an update of the stored job (spec `old`, status `status`) to spec `next`. */
function warningsOf(old: Json, status: Json, next: Json): string[] | undefined {
  const r = validateJob(readReview(reviewOf("UPDATE", jobWith(next), { ...jobWith(old), status })));
  assert.equal(r.allowed, true, r.status?.message);
  return r.warnings;
}

const edit = (patch: Json): Json => ({ ...structuredClone(BASE), ...patch });

describe("admission warnings: an edit of a finished job", () => {
  const cases: { name: string; status: Json; next: Json; fields?: string[]; advice?: RegExp }[] = [
    {
      name: "a succeeded job's rounds and node selector edit names both and the job to resume from",
      status: finished("Succeeded", "TrainingCompleted", 4),
      next: edit({ training: { rounds: 8 }, clients: { count: 2, nodeSelector: { zone: "b" } } }),
      fields: ["spec.clients.nodeSelector", "spec.training.rounds"],
      advice: /create a new job with spec\.output\.resumeFrom\.job: demo \(from round 4\)/,
    },
    {
      name: "a failed job without a checkpoint says a new job starts at round 1",
      status: finished("Failed", "QuorumNotReached"),
      next: edit({ training: { rounds: 4, optimizer: { learningRate: 0.5 } } }),
      fields: ["spec.training.optimizer"],
      advice: /create a new job \(this one has no status\.lastCheckpoint: it starts at round 1\)/,
    },
    {
      name: "an edit of ttlSecondsAfterFinished alone (which a finished job follows) gets none",
      status: finished("Succeeded", "TrainingCompleted", 4),
      next: edit({ ttlSecondsAfterFinished: 60 }),
    },
    {
      name: "writing out a default is no edit and gets none",
      status: finished("Succeeded", "TrainingCompleted", 4),
      next: edit({ suspend: false, server: { replicas: 1 } }),
    },
    {
      name: "a job Failed for an invalid spec is not finished and gets none",
      status: finished("Failed", "InvalidSpec"),
      next: edit({ clients: { count: 2, nodeSelector: { zone: "b" } } }),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const warnings = warningsOf(BASE, c.status, c.next);
      if (c.fields === undefined) return assert.equal(warnings, undefined);
      assert.equal(warnings?.length, 3, String(warnings));
      const [head, what, advice] = warnings as [string, string, string];
      const phase = (c.status as { phase: string }).phase;
      assert.equal(head, `this job has finished (${phase}) and does not run again: this edit is ignored`);
      assert.ok(what.startsWith("ignored fields: "), what);
      assert.deepEqual(what.slice("ignored fields: ".length).split(", ").sort(), c.fields);
      assert.match(advice, c.advice!);
    });
  }
  it("names no field when the stored spec no longer parses, and still says the edit is ignored", () => {
    const stored = { ...BASE, training: { rounds: 0 } };
    const warnings = warningsOf(stored, finished("Succeeded", "TrainingCompleted"), BASE);
    assert.equal(warnings?.length, 2, String(warnings));
    assert.equal(
      warnings[0],
      "this job has finished (Succeeded) and does not run again: this edit is ignored",
    );
    assert.match(warnings[1]!, /^to train with this edit, create a new job/);
  });
  it("keeps each warning within the recommended length, counting the fields it leaves out", () => {
    const next = edit({
      clients: { count: 2, nodeSelector: { a: "b" }, tolerations: [{ key: "k", operator: "Exists" }] },
      server: { nodeSelector: { a: "b" }, env: [{ name: "A", value: "1" }], replicas: 2 },
      training: { rounds: 9, optimizer: { learningRate: 0.5 } },
      activeDeadlineSeconds: 600,
    });
    const warnings = warningsOf(BASE, finished("Succeeded", "TrainingCompleted", 4), next)!;
    for (const w of warnings) {
      assert.ok(w.length <= WARNING_LENGTH, `${w.length}: ${w}`);
      assert.ok(!w.includes("\n"), w);
    }
    const named = warnings[1]!.slice("ignored fields: ".length);
    const more = /(?: and (\d+) more)$/.exec(named);
    assert.ok(more, warnings[1]);
    const listed = named.slice(0, more.index).split(", ").length;
    assert.equal(listed + Number(more[1]), 8);
  });
});

describe("fitList", () => {
  it("names every item when they fit, and always at least one", () => {
    assert.equal(fitList("x: ", ["a", "b"]), "x: a, b");
    const long = "y".repeat(WARNING_LENGTH);
    assert.equal(fitList("x: ", [long, "b"]), `x: ${long} and 1 more`);
  });
});

/** Whether the operator's ClientsConfigCurrent goes False when pods of `old` run and the spec is `next`. */
function conditionSaysOutdated(old: Json, next: Json): boolean {
  const oldJob = applyDefaults({
    ...jobWith(old),
    metadata: { name: "demo", namespace: "team-a", uid: "u" },
  });
  const newJob = applyDefaults({
    ...jobWith(next),
    metadata: { name: "demo", namespace: "team-a", uid: "u" },
  });
  const build = (j: typeof oldJob, pods: V1Pod[]) => {
    const plans = planClients(
      j.spec.clients.count,
      pods,
      DEFAULT_CHILD_SETTINGS.clientRestart,
      NOW.getTime(),
    );
    const lifecycle = decideLifecycle({ job: j, previous: undefined, progress: undefined, plans, now: NOW });
    const out = desiredChildren({
      job: j,
      ref: refOf(j),
      settings: DEFAULT_CHILD_SETTINGS,
      jobKey: "k",
      lifecycle,
      plans,
    });
    return { plans, apply: out.apply };
  };
  const pods = (build(oldJob, []).apply.filter((o) => o.kind === "Pod") as V1Pod[]).map((p) => ({
    ...p,
    metadata: { ...p.metadata, creationTimestamp: NOW },
    status: { phase: "Running" },
  }));
  const now = build(newJob, pods);
  return clientsConfigCondition(now.plans, now.apply).status === "False";
}

describe("admission warnings: an edit of a running job that client pods read", () => {
  const cases: { name: string; next: Json; fields: string[] }[] = [
    {
      name: "an optimizer edit (run config) names spec.training.optimizer",
      next: edit({ training: { rounds: 4, optimizer: { learningRate: 0.5 } } }),
      fields: ["spec.training.optimizer"],
    },
    {
      name: "a clients.env edit (pod spec) names spec.clients.env",
      next: edit({ clients: { count: 2, env: [{ name: "A", value: "1" }] } }),
      fields: ["spec.clients.env"],
    },
    {
      name: "a node selector edit (pod spec only) names spec.clients.nodeSelector",
      next: edit({ clients: { count: 2, nodeSelector: { zone: "b" } } }),
      fields: ["spec.clients.nodeSelector"],
    },
    {
      name: "a rounds edit (in the clients' run config) names spec.training.rounds",
      next: edit({ training: { rounds: 9 } }),
      fields: ["spec.training.rounds"],
    },
    {
      name: "a mixed edit names only the fields clients read",
      next: edit({
        server: { replicas: 3 },
        clients: { count: 2, tolerations: [{ key: "k", operator: "Exists" }] },
      }),
      fields: ["spec.clients.tolerations"],
    },
    { name: "a server replicas edit gets none", next: edit({ server: { replicas: 3 } }), fields: [] },
    {
      name: "a server env edit gets none",
      next: edit({ server: { env: [{ name: "A", value: "1" }] } }),
      fields: [],
    },
    { name: "a deadline edit gets none", next: edit({ activeDeadlineSeconds: 600 }), fields: [] },
    { name: "a TTL edit gets none", next: edit({ ttlSecondsAfterFinished: 60 }), fields: [] },
  ];
  for (const c of cases) {
    it(`${c.name}, as ClientsConfigCurrent would say`, () => {
      const warnings = warningsOf(BASE, running(["Running", "Running"]), c.next);
      assert.equal(conditionSaysOutdated(BASE, c.next), c.fields.length > 0);
      if (c.fields.length === 0) return assert.equal(warnings, undefined);
      assert.equal(warnings?.length, 3, String(warnings));
      const [head, what, how] = warnings as [string, string, string];
      assert.match(
        head,
        /^the 2 running client pods keep the old spec until next created .*ClientsConfigCurrent/,
      );
      assert.ok(what.startsWith("edited fields they read: "), what);
      assert.deepEqual(what.slice("edited fields they read: ".length).split(", "), c.fields);
      assert.match(how, /^to remake a client pod with the new spec now, delete it/);
      assert.ok(warnings!.every((w) => w.length <= WARNING_LENGTH && !w.includes("\n")));
    });
  }
  const optimizer = edit({ training: { rounds: 4, optimizer: { learningRate: 0.5 } } });
  const none: { name: string; status: Json; next: Json }[] = [
    { name: "no client pod running yet", status: running(["Pending", "Pending"]), next: optimizer },
    { name: "a suspended job", status: { ...running([]), phase: "Suspended" }, next: optimizer },
    {
      name: "an edit that suspends the job (its client pods are deleted)",
      status: running(["Running", "Running"]),
      next: { ...optimizer, suspend: true },
    },
  ];
  for (const c of none) {
    it(`gets none for ${c.name}`, () => {
      assert.equal(warningsOf(BASE, c.status, c.next), undefined);
    });
  }
  it("counts only the clients the status shows Running", () => {
    const warnings = warningsOf(BASE, running(["Running", "Succeeded"]), optimizer);
    assert.match(warnings?.[0] ?? "", /^the running client pod keeps the old spec/);
  });
});
