// sfprompt validate did not look at whether the run directory can be made or written: `--out` under a
// folder the user cannot write in passed validate ("(new)", exit 0), and sfprompt run was refused when
// it made the folder. validate now says the run's own refusal (run-dir-writable.ts, the errors
// lockRunDir meets), exit 1. As root the CLI runs as nobody; as another user, the folders are 0555.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { asRoot, sfpromptAsOtherUser } from "./other-user.js";
import { assertUserError, writeTinyJob } from "./run-helpers.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("sfprompt validate with a run directory the user cannot make or write", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-out-"));
    chmodSync(dir, 0o755);
    job = writeTinyJob(dir);
  });
  after(() => {
    chmodSync(join(dir, "closed"), 0o755);
    chmodSync(join(dir, "closed-run"), 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    {
      name: "--out under a folder it cannot write in",
      out: (): string => {
        mkdirSync(join(dir, "closed"));
        chmodSync(join(dir, "closed"), asRoot ? 0o755 : 0o555);
        return join(dir, "closed", "runs", "tiny");
      },
      detail:
        "cannot be created \\(EACCES\\): \\S+/closed, owned by uid \\d+, cannot be written by this process's user \\(uid \\d+, gid \\d+; EACCES\\); choose a folder you can write with --out DIR \\(or spec\\.output\\.path\\), or .*",
    },
    {
      name: "--out, a folder there that it cannot write in",
      out: (): string => {
        mkdirSync(join(dir, "closed-run"));
        chmodSync(join(dir, "closed-run"), asRoot ? 0o755 : 0o555);
        return join(dir, "closed-run");
      },
      detail:
        "cannot be written \\(EACCES\\): \\S+/closed-run, owned by uid \\d+, cannot be written by this process's user \\(uid \\d+, gid \\d+; EACCES\\); choose a folder you can write with --out DIR \\(or spec\\.output\\.path\\), or .*",
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name} as sfprompt run does (exit 1)`, () => {
      const out = c.out();
      const message = `run directory ${escape(out)}: ${c.detail}$`;
      const v = sfpromptAsOtherUser({}, "validate", job, "--out", out);
      assertUserError(v, new RegExp(`^sfprompt validate: ${escape(job)}: ${message}`, "m"));
      const r = sfpromptAsOtherUser({}, "run", job, "--out", out);
      assertUserError(r, new RegExp(`^sfprompt run: ${message}`, "m"));
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(join(dir, "closed", "runs")), false, "no folder made");
    });
  }
});
