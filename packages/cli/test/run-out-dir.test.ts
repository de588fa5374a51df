// `sfprompt run --out DIR` where DIR cannot be a run directory on a special file system: Node's
// recursive mkdir loops forever where mkdir answers ENOENT under a parent that exists (/proc), so the
// run hung, deaf to Ctrl-C; it now says the folder cannot be created.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, sfpromptWithin, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run --out on a special file system", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-out-"));
    job = writeTinyJob(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string]> = [
    ["a folder in /proc", "/proc/sfprompt-run-test"],
    ["a nested folder in /proc", "/proc/sfprompt-run-test/a/b"],
  ];
  for (const [name, out] of cases)
    it(`names ${name} that cannot be created instead of hanging`, () => {
      assertUserError(
        sfpromptWithin(60_000, "run", job, "--out", out),
        /run directory \/proc\/sfprompt-run-test\S*: cannot be created \(ENOENT\); choose another folder with --out DIR/,
      );
    });
});
