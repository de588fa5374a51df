// docs/images.md's "Flags and environment" table is the reference of the server and client entry
// points: every flag and variable their usage text lists is named there.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { usage, type Role } from "../src/index.js";

const DOC = readFileSync(new URL("../../../docs/images.md", import.meta.url), "utf8");

for (const role of ["server", "client"] as const satisfies readonly Role[]) {
  test(`every flag and variable of sfprompt-${role}'s usage is in docs/images.md`, () => {
    const text = usage(role);
    const names = [...text.matchAll(/--[a-z][a-z0-9-]*|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g)].map((m) => m[0]);
    assert.ok(names.includes("--config"), text);
    const missing = [...new Set(names)].filter((n) => !new RegExp(`${n}(?![A-Za-z0-9_-])`).test(DOC));
    assert.deepEqual(missing, []);
  });
}
