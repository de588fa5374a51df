// `sfprompt demo-model --cache DIR` (and SFPROMPT_CACHE) where DIR cannot hold the cache: under /proc
// Node's recursive mkdir looped forever, deaf to Ctrl-C, and under a file it ended in an internal
// error with a stack trace; both now name the folder and how to choose another (exit 1).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertUserError, sfpromptWithin } from "./run-helpers.js";

describe("sfprompt demo-model with a cache folder that cannot be made", () => {
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "cli-demo-cache-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const hint = "set SFPROMPT_CACHE \\(sfprompt demo-model: --cache DIR\\) to a folder this user can write";
  it("names a folder in /proc instead of hanging", () => {
    assertUserError(
      sfpromptWithin(60_000, "demo-model", "--cache", "/proc/sfprompt-cache-test"),
      new RegExp(`cache folder /proc/sfprompt-cache-test/models: cannot be created \\(ENOENT\\); ${hint}`),
    );
  });

  it("names a path under a file", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a folder\n");
    assertUserError(
      sfpromptWithin(60_000, "demo-model", "--cache", file),
      new RegExp(`cache folder \\S+a-file/models: cannot be created \\(ENOTDIR\\); ${hint}`),
    );
  });
});
