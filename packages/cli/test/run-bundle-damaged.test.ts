// `sfprompt run` resuming a run whose bundle (DIR/bundle, prepared by the run's first session) was
// damaged since: a gradient graph removed, a manifest cut short. The run went on, started nats-server
// and the server, and every client failed mid-round with "cannot read <file>: re-run `sfprompt
// prepare`", a command the user never ran. It is now refused before anything starts, naming the file
// and the two ways out; removing the bundle folder, as the message says, has the run prepare it again
// and go on from its checkpoint.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BUNDLE_FILES, MANIFEST_FILE } from "@sfprompt/engine";
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

const ONE_ROUND = "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }";

const cases: { name: string; spoil: (bundle: string) => void; says: (bundle: string) => string }[] = [
  {
    name: "a gradient graph removed",
    spoil: (bundle) => rmSync(join(bundle, BUNDLE_FILES.tailGrad)),
    says: (bundle) =>
      `its bundle file ${bundle}/grad/tail.onnx, which its manifest.json names, cannot be opened (ENOENT)`,
  },
  {
    name: "a manifest cut short",
    spoil: (bundle) =>
      writeFileSync(join(bundle, MANIFEST_FILE), '{"format": "sfprompt.partition-bundle", "ver'),
    says: (bundle) => `its bundle ${bundle}/manifest.json is not JSON (`,
  },
];

describe("sfprompt run resuming a run whose bundle was damaged", () => {
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "cli-run-bundle-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [i, c] of cases.entries())
    it(`${c.name}: refused before anything starts, and goes on once the bundle folder is removed`, () => {
      const job = writeTinyJob(dir, ONE_ROUND);
      const out = join(dir, `out-${i}`);
      const first = sfprompt("run", job, "--out", out);
      assert.equal(first.code, 0, first.stderr);
      const bundle = join(out, "bundle");
      c.spoil(bundle);
      const resumed = sfprompt("run", job, "--out", out, "--rounds", "2");
      assertUserError(resumed, /run directory /);
      const said = resumed.stderr;
      assert.ok(said.includes(`run directory ${out}: ${c.says(bundle)}`), said);
      assert.ok(
        said.includes(
          `; remove the bundle folder (rm -rf ${bundle}) to have it prepared again from spec.model.source (the same model file and split give the same bundle), or start the run over with --fresh`,
        ),
        said,
      );
      assert.doesNotMatch(said, /every client failed|sfprompt prepare/);
      assert.equal(readRunMetrics(out).rounds.length, 1, "the refused session trained nothing");
      // the advice works: the run prepares the bundle again and trains its second round
      rmSync(bundle, { recursive: true });
      const again = sfprompt("run", job, "--out", out, "--rounds", "2");
      assert.equal(again.code, 0, again.stderr);
      assert.equal(readRunMetrics(out).rounds.length, 2);
    });
});
