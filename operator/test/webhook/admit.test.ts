// The webhook's decisions on AdmissionReview requests: the same invalid specs the API package's
// tables hold are denied naming the same field; defaults arrive as a patch whose result equals zod's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyDefaults } from "@sfprompt/api";
import { invalidCases, validCases } from "../../../packages/api/test/helpers/cases.js";
import { jobWith } from "../../../packages/api/test/helpers/builders.js";
import { outputEdits } from "../../../packages/api/test/helpers/output-edits.js";
import { defaultJob, validateJob } from "../../src/webhook/admit.js";
import { readReview } from "../../src/webhook/admission-review.js";
import { immutableSpecPaths } from "../../src/webhook/immutable-fields.js";
import { applyAddPatch, decodePatch, reviewOf } from "./review-builders.js";

const validate = (op: string, obj: unknown, old?: unknown) => validateJob(readReview(reviewOf(op, obj, old)));
const mutate = (op: string, obj: unknown, old?: unknown) => defaultJob(readReview(reviewOf(op, obj, old)));

describe("validating webhook: the API package's invalid specs", () => {
  for (const c of invalidCases) {
    it(`denies ${c.name}, naming ${c.path}`, () => {
      const r = validate("CREATE", c.job);
      assert.equal(r.allowed, false);
      assert.match(r.status!.message, new RegExp(`(^|; )${c.path.replace(/[.[\]]/g, "\\$&")}: `));
      assert.ok(r.status!.message.includes(c.message), r.status!.message);
      assert.ok(r.status!.details!.causes.some((cause) => cause.field === c.path));
      assert.equal(r.status!.code, 422);
    });
  }
});

describe("validating webhook: valid specs", () => {
  for (const c of validCases) {
    it(`allows ${c.name}`, () => {
      const r = validate("CREATE", jobWith(c.spec));
      assert.equal(r.allowed, true, r.status?.message);
    });
  }
  it("allows a job named by generateName (no name yet)", () => {
    const j = jobWith({}, { generateName: "demo-", namespace: "team-a" });
    assert.equal(validate("CREATE", j).allowed, true);
  });
  it("allows a delete of anything", () => {
    assert.equal(validate("DELETE", null, { garbage: true }).allowed, true);
  });
});

describe("validating webhook: updates", () => {
  const base = jobWith({ training: { rounds: 5 }, clients: { count: 3 } });
  const cases: { name: string; next: unknown; allowed: boolean; field?: string }[] = [
    {
      name: "a change of rounds (mutable) passes",
      next: jobWith({ training: { rounds: 8 }, clients: { count: 3 } }),
      allowed: true,
    },
    {
      name: "a change of clients.count is refused naming spec.clients.count",
      next: jobWith({ training: { rounds: 5 }, clients: { count: 4 } }),
      allowed: false,
      field: "spec.clients.count",
    },
    {
      name: "a new model is refused naming spec.model",
      next: jobWith({
        training: { rounds: 5 },
        clients: { count: 3 },
        model: { source: { configMap: { name: "tiny-model", key: "model.onnx" } } },
      }),
      allowed: false,
      field: "spec.model",
    },
    {
      name: "writing out a default explicitly is no change",
      next: jobWith({ training: { rounds: 5 }, clients: { count: 3 }, method: "sfprompt" }),
      allowed: true,
    },
    {
      name: "a metadata-only update of a job whose stored spec is invalid passes (finalizer removal)",
      next: { ...jobWith({ training: { rounds: 0 } }), metadata: { name: "demo", finalizers: [] } },
      allowed: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const old = c.name.includes("stored spec is invalid") ? jobWith({ training: { rounds: 0 } }) : base;
      const r = validate("UPDATE", c.next, old);
      assert.equal(r.allowed, c.allowed, r.status?.message);
      if (c.field) {
        assert.equal(r.status!.reason, "Forbidden");
        assert.match(r.status!.message, new RegExp(`^${c.field.replace(/\./g, "\\.")}: field is immutable`));
      }
    });
  }
  it("the immutable fields are the ones the CRD marks with self == oldSelf", () => {
    const paths = immutableSpecPaths().map((p) => p.join("."));
    for (const p of ["method", "model", "prompts", "classes", "data", "clients.count", "output.bucket"])
      assert.ok(paths.includes(p), p);
    assert.ok(paths.includes("data.partitioning.strategy"));
    assert.ok(!paths.includes("training"));
  });
  it("a job stored with strategy iid (the older CRD's default) updated without one names the strategy and what to do", () => {
    const data = (partitioning: Record<string, unknown>) => ({
      source: { imageFolder: { path: "/data/images" } },
      evalSource: { imageFolder: { path: "/data/held-out" } },
      partitioning,
    });
    const r = validate("UPDATE", jobWith({ data: data({}) }), jobWith({ data: data({ strategy: "iid" }) }));
    assert.equal(r.allowed, false);
    assert.match(
      r.status!.message,
      /spec\.data\.partitioning\.strategy: field is immutable \(setting, changing and removing it are refused\): a job created before 2026-11-29 without a strategy holds iid, .*keep strategy: iid in the manifest/,
    );
  });
});

describe("validating webhook: spec.output on update", () => {
  for (const e of outputEdits) {
    it(`${e.refused ? "refuses" : "allows"} ${e.name}`, () => {
      const r = validate("UPDATE", jobWith({ output: e.next }), jobWith({ output: e.old }));
      assert.equal(r.allowed, !e.refused, r.status?.message);
      if (!e.refused) return;
      assert.equal(r.status!.reason, "Forbidden");
      assert.match(
        r.status!.message,
        /^spec\.output\.bucket: field is immutable \(setting, changing and removing/,
      );
      assert.match(r.status!.message, /create a new job/);
    });
  }
});

describe("validating webhook: rounds below the job's newest checkpoint", () => {
  const status = (phase: string, checkpointRound?: number, reason?: string): Record<string, unknown> => ({
    phase,
    ...(checkpointRound === undefined
      ? {}
      : { lastCheckpoint: { round: checkpointRound, object: `checkpoints/round-${checkpointRound}` } }),
    ...(reason ? { conditions: [condition(phase, reason)] } : {}),
  });
  const condition = (type: string, reason: string) => ({
    type,
    status: "True",
    reason,
    message: "",
    lastTransitionTime: "2026-01-01T00:00:00Z",
  });
  const stored = (
    st: Record<string, unknown>,
    spec: Record<string, unknown> = { training: { rounds: 10 } },
  ) => ({
    ...jobWith(spec),
    status: st,
  });
  const cases: { name: string; old: unknown; next: Record<string, unknown>; allowed: boolean }[] = [
    {
      name: "lowering rounds below the checkpointed round of a running job is refused",
      old: stored(status("Running", 6)),
      next: { training: { rounds: 4 } },
      allowed: false,
    },
    {
      name: "the same on a suspended job (its server resumes when it is unsuspended)",
      old: stored(status("Suspended", 6)),
      next: { training: { rounds: 5 } },
      allowed: false,
    },
    {
      name: "turning output.resume back on with rounds below the checkpoint is refused",
      old: stored(status("Running", 6), { training: { rounds: 4 }, output: { resume: false } }),
      next: { training: { rounds: 4 } },
      allowed: false,
    },
    {
      name: "lowering rounds to the checkpointed round passes (the job stops after it)",
      old: stored(status("Running", 6)),
      next: { training: { rounds: 6 } },
      allowed: true,
    },
    {
      name: "lowering rounds with output.resume false in the same edit passes (the job starts over)",
      old: stored(status("Running", 6)),
      next: { training: { rounds: 2 }, output: { resume: false } },
      allowed: true,
    },
    {
      name: "lowering rounds of a job without a checkpoint passes",
      old: stored(status("Running")),
      next: { training: { rounds: 1 } },
      allowed: true,
    },
    {
      name: "lowering rounds of a succeeded job passes (ignored, ADR 0034)",
      old: stored(status("Succeeded", 10, "TrainingCompleted")),
      next: { training: { rounds: 3 } },
      allowed: true,
    },
    {
      name: "a job Failed for an invalid spec is not finished: the edit is refused",
      old: stored(status("Failed", 6, "InvalidSpec")),
      next: { training: { rounds: 3 } },
      allowed: false,
    },
    {
      name: "an edit that leaves rounds and resume alone passes even when the stored rounds are held",
      old: stored(status("Running", 6), { training: { rounds: 3 } }),
      next: { training: { rounds: 3, optimizer: { learningRate: 0.002 } } },
      allowed: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = validate("UPDATE", jobWith(c.next), c.old);
      assert.equal(r.allowed, c.allowed, r.status?.message);
      if (c.allowed) return;
      const round = (c.old as { status: { lastCheckpoint: { round: number } } }).status.lastCheckpoint.round;
      const rounds = (c.next as { training: { rounds: number } }).training.rounds;
      assert.equal(r.status!.code, 422);
      assert.deepEqual(
        r.status!.details!.causes.map((x) => x.field),
        ["spec.training.rounds"],
      );
      assert.ok(
        r.status!.message.startsWith(
          `spec.training.rounds: ${rounds} is below round ${round} of the job's newest checkpoint`,
        ),
        r.status!.message,
      );
      assert.ok(
        r.status!.message.includes(`set spec.training.rounds to ${round} or more`),
        r.status!.message,
      );
      assert.ok(r.status!.message.includes("spec.output.resume: false"), r.status!.message);
    });
  }
});

describe("mutating webhook", () => {
  for (const c of [{ name: "an absent spec", spec: undefined }, ...validCases]) {
    it(`patching ${c.name} gives exactly zod's defaulted spec`, () => {
      const j = c.spec === undefined ? { ...jobWith({}), spec: undefined } : jobWith(c.spec);
      const raw = JSON.parse(JSON.stringify(j)) as Record<string, unknown>;
      const r = mutate("CREATE", raw);
      assert.equal(r.allowed, true);
      assert.equal(r.patchType, "JSONPatch");
      const patched = applyAddPatch(raw, decodePatch(r.patch)) as { spec: unknown };
      assert.deepEqual(patched.spec, JSON.parse(JSON.stringify(applyDefaults(raw).spec)));
    });
  }
  it("escapes '/' in node selector keys as ~1", () => {
    const raw = jobWith({ clients: { nodeSelector: { "kubernetes.io/arch": "arm64" } } });
    const ops = decodePatch(mutate("CREATE", raw).patch);
    assert.ok(ops.every((o) => !o.path.includes("kubernetes.io")));
    const patched = applyAddPatch(raw, ops) as { spec: { clients: { nodeSelector: unknown } } };
    assert.deepEqual(patched.spec.clients.nodeSelector, { "kubernetes.io/arch": "arm64" });
  });
  it("a fully defaulted spec needs no patch", () => {
    const full = JSON.parse(JSON.stringify(applyDefaults(jobWith({})))) as unknown;
    const r = mutate("CREATE", full);
    assert.equal(r.allowed, true);
    assert.equal(r.patch, undefined);
  });
  it("an invalid spec is left for the validating webhook", () => {
    const r = mutate("CREATE", jobWith({ training: { rounds: 0 } }));
    assert.deepEqual([r.allowed, r.patch], [true, undefined]);
  });
  describe("an update that leaves spec.data.partitioning.strategy unset (ADR 0005, amendment 3)", () => {
    const data = (partitioning?: Record<string, unknown>) => ({
      source: { imageFolder: { path: "/data/images" } },
      evalSource: { imageFolder: { path: "/data/held-out" } },
      ...(partitioning === undefined ? {} : { partitioning }),
    });
    const strategyAfter = (op: string, next: unknown, old?: unknown): unknown => {
      const r = mutate(op, next, old);
      assert.equal(r.allowed, true);
      const patched = applyAddPatch(next, decodePatch(r.patch)) as {
        spec: { data: { partitioning: { strategy?: unknown } } };
      };
      return patched.spec.data.partitioning.strategy;
    };
    it("keeps the stored one (iid, the older CRD's default), with or without a partitioning section", () => {
      const old = jobWith({ data: data({ strategy: "iid", seed: 0, alpha: 0.5 }) });
      assert.equal(strategyAfter("UPDATE", jobWith({ data: data() }), old), "iid");
      assert.equal(strategyAfter("UPDATE", jobWith({ data: data({ seed: 0 }) }), old), "iid");
    });
    it("leaves a strategy the update sets, a create and a stored job without one alone", () => {
      const old = jobWith({ data: data({ strategy: "iid" }) });
      assert.equal(strategyAfter("UPDATE", jobWith({ data: data({ strategy: "none" }) }), old), "none");
      assert.equal(strategyAfter("CREATE", jobWith({ data: data() })), undefined);
      assert.equal(strategyAfter("UPDATE", jobWith({ data: data() }), jobWith({ data: data() })), undefined);
    });
  });
});

describe("garbage", () => {
  const bodies: { name: string; body: unknown }[] = [
    { name: "null", body: null },
    { name: "a string", body: "hello" },
    {
      name: "an AdmissionReview without request",
      body: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" },
    },
    { name: "a v1beta1 review", body: { ...reviewOf("CREATE", {}), apiVersion: "admission.k8s.io/v1beta1" } },
    { name: "an unknown operation", body: reviewOf("PATCH", {}) },
  ];
  for (const b of bodies) {
    it(`readReview refuses ${b.name} with a message`, () => {
      assert.throws(() => readReview(b.body), /expected an admission\.k8s\.io\/v1 AdmissionReview/);
    });
  }
  for (const obj of [null, 42, "job", [1, 2]]) {
    it(`an object of ${JSON.stringify(obj)} is denied as a bad request by both webhooks`, () => {
      for (const r of [validate("CREATE", obj), mutate("CREATE", obj)]) {
        assert.equal(r.allowed, false);
        assert.equal(r.status!.code, 400);
      }
    });
  }
});

describe("validating webhook: relative data paths on update", () => {
  const job = (everyRounds: number, rounds = 2) =>
    jobWith({
      data: { source: { jsonl: { path: "train.jsonl" } }, evalSource: { jsonl: { path: "held.jsonl" } } },
      training: { rounds, evaluation: { everyRounds } },
    });
  it("a job stored with a relative path (before the check) stays editable", () => {
    const r = validate("UPDATE", job(0, 5), job(0));
    assert.equal(r.allowed, true, r.status?.message);
  });
  it("turning evaluation on refuses the evalSource path it starts mounting, not the stored source", () => {
    const r = validate("UPDATE", job(1), job(0));
    assert.equal(r.allowed, false);
    assert.match(r.status!.message, /spec\.data\.evalSource\.jsonl\.path: is "held\.jsonl", a relative path/);
    assert.ok(!r.status!.message.includes("spec.data.source."), r.status!.message);
  });
});
