// Invalid specs: zod names the field and says what to do, and the generated CRD (schema + CEL, after
// the API server's defaulting) rejects the same specs wherever a CRD can.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseJob, specJsonSchema } from "../src/index.js";
import { invalidCases as cases } from "./helpers/cases.js";
import { applyDefaults, celErrors, validate } from "./helpers/openapi.js";

describe("invalid specs", () => {
  const schema = specJsonSchema();
  for (const c of cases) {
    it(`rejects ${c.name}, naming ${c.path}`, () => {
      const r = parseJob(c.job);
      assert.equal(r.ok, false, "zod accepted it");
      if (r.ok) return;
      const hit = r.errors.find((e) => e.path === c.path);
      assert.ok(hit, `no error at ${c.path}; got ${JSON.stringify(r.errors)}`);
      assert.ok(hit.message.includes(c.message), `message ${JSON.stringify(hit.message)} lacks ${c.message}`);
    });
    if (c.crd) {
      it(`the CRD also rejects ${c.name}`, () => {
        const spec = applyDefaults(schema, c.job.spec);
        const schemaErrors = validate(schema, spec);
        // CEL sees typed values, so it only runs on what passed the schema (as in the API server).
        const errs = schemaErrors.length > 0 ? schemaErrors : celErrors(schema, spec);
        assert.ok(errs.length > 0, "the CRD schema and its CEL rules accepted it");
        assert.ok(
          errs.every((e) => !e.includes("failed to evaluate")),
          `a CEL rule errored instead of failing: ${errs.join("; ")}`,
        );
      });
    }
  }
});
