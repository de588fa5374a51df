// `npm run gen` and `npm run verify` read packages/api/dist; they build it first, so a dist older
// than its src is never written into the CRD or passed by verify. Run in a copy of the tree (the
// scripts, packages/api with a current dist, node_modules linked), so the shared tree is untouched.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CRD_PATH } from "../src/index.js";

const repo = new URL("../../..", import.meta.url).pathname;
const MARKER = "StaleDistMarker";

interface ScriptRun {
  status: number | null;
  output: string;
}

function runScript(root: string, script: "gen" | "verify"): ScriptRun {
  const r = spawnSync(process.execPath, [join(root, "scripts", `${script}.mjs`)], {
    cwd: root,
    encoding: "utf8",
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Copies what gen reads into a temporary tree: the scripts and packages/api with its dist. */
function copyTree(): string {
  const root = mkdtempSync(join(tmpdir(), "sfprompt-gen-"));
  symlinkSync(join(repo, "node_modules"), join(root, "node_modules"));
  for (const p of ["tsconfig.base.json", "scripts/gen.mjs", "scripts/verify.mjs", "scripts/generators.mjs"]) {
    cpSync(join(repo, p), join(root, p));
  }
  for (const p of ["package.json", "tsconfig.json", "tsconfig.tsbuildinfo", "src", "dist"]) {
    cpSync(join(repo, "packages/api", p), join(root, "packages/api", p), { recursive: true });
  }
  return root;
}

/** Puts MARKER into the first field description of output.ts, as an edit to the schema would. */
function editSchemaSource(root: string): void {
  const file = join(root, "packages/api/src/output.ts");
  const before = readFileSync(file, "utf8");
  const after = before.replace(/description:\s*"/, (m) => `${m}${MARKER} `);
  assert.notEqual(after, before, "output.ts has no field description to edit");
  writeFileSync(file, after);
}

describe("npm run gen and npm run verify with a stale packages/api/dist", () => {
  let root = "";
  before(() => {
    root = copyTree();
    const first = runScript(root, "gen");
    assert.equal(first.status, 0, first.output);
    assert.ok(!readFileSync(join(root, CRD_PATH), "utf8").includes(MARKER));
    editSchemaSource(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("verify reports the CRD out of date after a schema edit, gen writes the edit, then verify passes", () => {
    const stale = runScript(root, "verify");
    assert.equal(stale.status, 1, stale.output);
    assert.match(stale.output, new RegExp(`verify: ${CRD_PATH} is out of date; run \`npm run gen\``));

    const gen = runScript(root, "gen");
    assert.equal(gen.status, 0, gen.output);
    assert.ok(
      readFileSync(join(root, CRD_PATH), "utf8").includes(MARKER),
      "the CRD lacks the edited description",
    );

    const fresh = runScript(root, "verify");
    assert.equal(fresh.status, 0, fresh.output);
  });

  it("a schema that does not compile stops gen and verify with tsc's error, leaving the CRD as it was", () => {
    const crdBefore = readFileSync(join(root, CRD_PATH), "utf8");
    const file = join(root, "packages/api/src/output.ts");
    writeFileSync(file, `${readFileSync(file, "utf8")}\nexport const broken: number = "not a number";\n`);
    for (const script of ["gen", "verify"] as const) {
      const r = runScript(root, script);
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, new RegExp(`${script}: \`tsc -b packages/api\` failed, so no generated file`));
      assert.match(r.output, /output\.ts.*TS2322/);
    }
    assert.equal(readFileSync(join(root, CRD_PATH), "utf8"), crdBefore);
  });
});
