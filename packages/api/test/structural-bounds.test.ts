// The generator keeps every bound zod checks, so that the API server refuses what zod would: the
// safe-integer range, an int-or-string's integer bounds, zod's date-time pattern, a record's key
// bounds (as CEL); and it refuses patterns that zod and the API server read differently.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import {
  checkPortablePattern,
  mapKeysRule,
  specJsonSchema,
  statusJsonSchema,
  StructuralSchemaError,
  toStructural,
  type SchemaNode,
} from "../src/index.js";

const openApi = (s: z.ZodType): SchemaNode =>
  toStructural(z.toJSONSchema(s, { target: "openapi-3.0", io: "input" }) as SchemaNode);
const at = (node: SchemaNode, path: string): SchemaNode =>
  path.split(".").reduce((n, k) => (n.properties as Record<string, SchemaNode>)[k] as SchemaNode, node);

describe("bounds the CRD keeps from zod", () => {
  it("bounds an unbounded z.int() to ±(2^53 - 1), the integers a JavaScript number holds", () => {
    assert.deepEqual(openApi(z.int()), {
      type: "integer",
      minimum: -Number.MAX_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
    });
    assert.equal(at(statusJsonSchema(), "round").maximum, Number.MAX_SAFE_INTEGER);
    assert.equal(at(statusJsonSchema(), "communication.total").maximum, Number.MAX_SAFE_INTEGER);
  });

  it("keeps an integer's own tighter bounds", () => {
    assert.deepEqual(openApi(z.int().min(1).max(10)), { type: "integer", minimum: 1, maximum: 10 });
  });

  it("puts an int-or-string's integer bounds on the node, where the API server reads them for integers", () => {
    const q = openApi(z.union([z.int().min(0), z.string().regex(/^[0-9]+m$/)]));
    assert.equal(q.minimum, 0);
    assert.equal(q.maximum, Number.MAX_SAFE_INTEGER);
    assert.equal(q.pattern, "^[0-9]+m$");
    assert.equal(q["x-kubernetes-int-or-string"], true);
  });

  it("keeps zod's date-time pattern next to format date-time, which alone admits 2026-11-28t05:00:00z", () => {
    const t = at(statusJsonSchema(), "completionTime");
    assert.equal(t.format, "date-time");
    const re = new RegExp(t.pattern as string);
    assert.ok(re.test("2026-11-28T05:00:00+01:00"));
    assert.ok(!re.test("2026-11-28t05:00:00z"));
  });

  it("turns a record's key bounds into a CEL rule over the keys", () => {
    const requests = at(specJsonSchema(), "server.resources.requests");
    assert.deepEqual(requests["x-kubernetes-validations"], [
      {
        rule: "self.all(k, size(k) >= 1 && size(k) <= 253)",
        message: "every key must be 1 to 253 characters long",
      },
    ]);
    assert.deepEqual(mapKeysRule({ type: "string", pattern: "^[a-z']+$" }, "m"), {
      rule: "self.all(k, k.matches('^[a-z\\']+$'))",
      message: "every key must match ^[a-z']+$",
    });
    assert.equal(mapKeysRule({ type: "string" }, "m"), undefined);
    assert.throws(
      () => mapKeysRule({ type: "string", format: "email" }, "m"),
      /m: the record's keys use format/,
    );
  });
});

describe("patterns that zod (ECMAScript) and the API server (RE2) read differently", () => {
  const refused: [string, RegExp][] = [
    ["^[^\\s]+$", /uses \\s/],
    ["^\\S+$", /uses \\s/],
    ["^a.b$", /an unescaped `\.`/],
    ["^a\\\\.b$", /an unescaped `\.`/],
    ["^(?=a)a$", /a lookaround/],
    ["^(a)\\1$", /back-reference/],
  ];
  for (const [pattern, why] of refused) {
    it(`refuses ${pattern}, naming the node`, () => {
      assert.throws(
        () => toStructural({ type: "object", properties: { u: { type: "string", pattern } } }),
        (e: unknown) =>
          e instanceof StructuralSchemaError && e.message.startsWith("(root).u: ") && why.test(e.message),
      );
    });
  }
  it("accepts escaped dots, dots in a class, \\d and ASCII ranges", () => {
    for (const p of ["^a\\.b$", "^[.]+$", "^\\d{4}$", "^[!-~]+$", "^a\\\\\\.b$"])
      assert.doesNotThrow(() => checkPortablePattern(p, "x"), p);
  });
});
