// Taking `sfprompt run`'s run lock loads no onnxruntime: the lock code comes from @sfprompt/core's
// subpaths (pid-lock, process-start), not its index, which loads onnxruntime-node, the engine and the
// api (0.6–1.5 s per process here, more with a cold tsx cache: ADR 0016 amendment 26). Each import runs
// in a fresh node process (as the tests and a source checkout run: tsx, the source condition), which
// reports whether any onnxruntime module is among its loaded modules; importing the index is the
// check that such a load shows.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const CLI = fileURLToPath(new URL("../", import.meta.url));
const RUN_LOCK = fileURLToPath(new URL("../src/run/run-lock.ts", import.meta.url));

/** Imports `specifier` (resolved from packages/cli) in a fresh process: whether onnxruntime loaded. */
function loadsOnnxruntime(specifier: string): { loaded: boolean; modules: string[] } {
  const script = `
    import { createRequire } from "node:module";
    const mod = await import(${JSON.stringify(specifier)});
    const modules = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("onnxruntime"));
    process.stdout.write(JSON.stringify({ exports: Object.keys(mod).length, modules }));
  `;
  const r = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
    { cwd: CLI, encoding: "utf8", timeout: 120_000, killSignal: "SIGKILL" },
  );
  assert.equal(r.status, 0, `importing ${specifier} failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { exports: number; modules: string[] };
  assert.ok(out.exports > 0, `${specifier} exports nothing`);
  return { loaded: out.modules.length > 0, modules: out.modules };
}

describe("the run lock's imports", () => {
  it("importing @sfprompt/core's index loads onnxruntime-node (what the checks below would see)", () => {
    assert.equal(loadsOnnxruntime("@sfprompt/core").loaded, true);
  });

  for (const specifier of ["@sfprompt/core/pid-lock", "@sfprompt/core/process-start", RUN_LOCK]) {
    it(`importing ${specifier.startsWith("/") ? "packages/cli/src/run/run-lock.ts" : specifier} loads no onnxruntime`, () => {
      const { loaded, modules } = loadsOnnxruntime(specifier);
      assert.equal(loaded, false, `loaded: ${modules.join(", ")}`);
    });
  }
});
