// Valid specs: zod accepts them and keeps what the user wrote, and the generated CRD accepts them too,
// with the API server's defaulting giving exactly the spec zod's defaults give.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseJob, specJsonSchema } from "../src/index.js";
import { jobWith, type Json } from "./helpers/builders.js";
import { validCases as cases } from "./helpers/cases.js";
import { outputEdits } from "./helpers/output-edits.js";
import { applyDefaults, celErrors, validate } from "./helpers/openapi.js";

describe("valid specs", () => {
  const schema = specJsonSchema();
  for (const c of cases) {
    it(`accepts ${c.name}`, () => {
      const r = parseJob(jobWith(c.spec));
      assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.errors));
      c.check(r.value);
    });
    it(`the CRD accepts ${c.name} and defaults it as zod does`, () => {
      const r = parseJob(jobWith(c.spec));
      assert.ok(r.ok);
      const defaulted = applyDefaults(schema, c.spec);
      assert.deepEqual(validate(schema, defaulted), []);
      assert.deepEqual(celErrors(schema, defaulted), []);
      assert.deepEqual(defaulted, r.value.spec);
    });
  }
});

describe("immutable fields", () => {
  const schema = specJsonSchema();
  const base = applyDefaults(schema, {}) as Json;
  const changes: { name: string; field: (s: Json) => void; immutable: boolean }[] = [
    {
      name: "the model source",
      field: (s) => ((s.model as Json).source = { path: "/m.onnx" }),
      immutable: true,
    },
    { name: "the method", field: (s) => (s.method = "fl-full"), immutable: true },
    { name: "the prompt length", field: (s) => ((s.prompts as Json).length = 20), immutable: true },
    { name: "the number of classes", field: (s) => ((s.classes as Json).numClasses = 5), immutable: true },
    { name: "the dataset", field: (s) => ((s.data as Json).source = { builtin: "digits" }), immutable: true },
    { name: "the client count", field: (s) => ((s.clients as Json).count = 6), immutable: true },
    { name: "the rounds", field: (s) => ((s.training as Json).rounds = 20), immutable: false },
    { name: "suspend", field: (s) => (s.suspend = true), immutable: false },
    {
      name: "the server's node selector",
      field: (s) => ((s.server as Json).nodeSelector = { gpu: "yes" }),
      immutable: false,
    },
  ];
  for (const c of changes) {
    it(`${c.immutable ? "refuses" : "allows"} a change of ${c.name} on update`, () => {
      const next = structuredClone(base);
      c.field(next);
      const errs = celErrors(schema, next, base);
      if (c.immutable)
        assert.ok(
          errs.some((e) => e.includes("is immutable")),
          `no immutability error: ${errs.join("; ")}`,
        );
      else assert.deepEqual(errs, []);
    });
  }
});

describe("spec.output on update (the CRD's CEL rules)", () => {
  const schema = specJsonSchema();
  for (const e of outputEdits) {
    it(`${e.refused ? "refuses" : "allows"} ${e.name}`, () => {
      const old = applyDefaults(schema, { output: e.old });
      const next = applyDefaults(schema, { output: e.next });
      const errs = celErrors(schema, next, old);
      if (e.refused)
        assert.ok(
          errs.some((m) => m.startsWith(".output: field is immutable") && m.includes("create a new job")),
          `no immutability error: ${errs.join("; ")}`,
        );
      else assert.deepEqual(errs, []);
    });
  }
});
