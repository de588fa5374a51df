// Where the Prometheus binaries come from: $PROMTOOL_BIN / $PROMETHEUS_BIN win when set, and a
// variable that names no executable is refused with the binary and the variable to fix in the
// error (nothing downloaded).
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PromtoolUnavailableError, ensurePrometheusTool, type PrometheusTool } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "sfprompt-prom-tools-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const VARS: Record<PrometheusTool, string> = { promtool: "PROMTOOL_BIN", prometheus: "PROMETHEUS_BIN" };

async function withVar<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

describe("the Prometheus binaries", () => {
  for (const tool of ["promtool", "prometheus"] as const) {
    it(`${VARS[tool]} naming an executable is ${tool}'s path`, async () => {
      const bin = join(dir, `my-${tool}`);
      writeFileSync(bin, "#!/bin/sh\n");
      chmodSync(bin, 0o755);
      assert.equal(await withVar(VARS[tool], bin, () => ensurePrometheusTool(tool)), bin);
    });

    it(`${VARS[tool]} naming no executable is refused, naming ${tool} and ${VARS[tool]}`, async () => {
      const missing = join(dir, "nothing-here");
      await assert.rejects(
        withVar(VARS[tool], missing, () => ensurePrometheusTool(tool)),
        (e: unknown) => {
          assert.ok(e instanceof PromtoolUnavailableError);
          assert.equal(e.tool, tool);
          assert.match(e.message, new RegExp(`^${tool} unavailable: ${VARS[tool]}=${missing} is not`));
          assert.match(e.message, new RegExp(`set ${VARS[tool]} to the binary`));
          return true;
        },
      );
    });
  }
});
