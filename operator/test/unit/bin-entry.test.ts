// The operator's package.json bin (`sfprompt-operator`, what npm links into node_modules/.bin) must run
// as a program: npm links the file as it is, so without a node shebang a shell runs it as a script and
// fails on its first line ("//: Permission denied"). tsc keeps the shebang in dist.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const OPERATOR = fileURLToPath(new URL("../../", import.meta.url));

test("every bin of the operator package starts with a node shebang in its source", () => {
  const pkg = JSON.parse(readFileSync(`${OPERATOR}package.json`, "utf8")) as { bin?: Record<string, string> };
  const bins = Object.entries(pkg.bin ?? {});
  assert.ok(bins.length > 0, "operator/package.json names no bin");
  for (const [name, target] of bins) {
    const source = target.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
    const first = readFileSync(`${OPERATOR}${source}`, "utf8").split("\n")[0];
    assert.equal(first, "#!/usr/bin/env node", `${name} → ${source}`);
  }
});
