// `sfprompt run` that fails before it writes anything into its run directory removes the folders it
// made for it (the run directory and the new folders above it), and none that were there before.
// Real CLI; the job's model file is not there, which is found once the run directory is taken.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, sfprompt } from "./run-helpers.js";

describe("sfprompt run that fails before writing anything", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-made-dirs-"));
    job = join(dir, "job.yaml");
    writeFileSync(
      job,
      [
        "apiVersion: sfprompt.io/v1alpha1",
        "kind: SFPromptJob",
        "metadata: { name: tiny }",
        "spec:",
        `  model: { source: { path: ${JSON.stringify(join(dir, "missing.onnx"))} } }`,
        "  data: { source: { builtin: digits }, partitioning: { strategy: iid } }",
        "  clients: { count: 2 }",
        "  training: { rounds: 1 }",
      ].join("\n"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const fails = (out: string): void =>
    assertUserError(
      sfprompt("run", job, "--out", out),
      /spec\.model\.source\.path: .*missing\.onnx does not exist/,
    );

  it("removes the run directory and every new folder above it, but not the folder that was there", () => {
    const there = join(dir, "there");
    mkdirSync(there);
    fails(join(there, "new", "a", "b", "run"));
    assert.deepEqual(readdirSync(there), [], `${there} stays, empty`);
  });

  it("keeps a run directory that was there, and the folders above it", () => {
    const run = join(dir, "kept", "x", "run");
    mkdirSync(run, { recursive: true });
    fails(run);
    assert.ok(existsSync(run), "the run directory that was there stays");
  });
});
