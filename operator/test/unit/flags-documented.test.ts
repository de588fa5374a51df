// docs/operator.md's Process section is the reference of the operator's flags: every flag the process
// takes (its own and the webhook's, which the chart sets through SFPROMPT_* variables) is named there.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { OPERATOR_FLAGS } from "../../src/config.js";
import { WEBHOOK_FLAGS } from "../../src/webhook/index.js";

const DOC = readFileSync(new URL("../../../docs/operator.md", import.meta.url), "utf8");

/** Whether the doc names --flag itself, not only a longer flag it begins (--webhook in --webhook-port). */
function documented(flag: string): boolean {
  return new RegExp(`${flag}(?![a-z0-9-])`).test(DOC);
}

test("every operator and webhook flag is in docs/operator.md", () => {
  assert.ok(OPERATOR_FLAGS.length > 0 && WEBHOOK_FLAGS.length > 0);
  assert.deepEqual(
    [...OPERATOR_FLAGS, ...WEBHOOK_FLAGS].filter((f) => !documented(f)),
    [],
  );
});
