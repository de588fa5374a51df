// A built-in model not cached yet is built by sfprompt run into its cache folder (SFPROMPT_CACHE),
// after it said "starting": a cache folder the run's user cannot make or write in passed sfprompt
// validate ("sfprompt run pre-trains it … first") and stopped the run after its start. validate and
// run's checks before the start now say it with the run's own words (@sfprompt/core fillProblem:
// the folder, the user, the chown/chmod), under spec.model.source. As root the CLI runs as nobody; as
// another user, the folders are made 0555.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { shellQuote } from "@sfprompt/api";
import { demoModelDir } from "@sfprompt/core";
import { asRoot, otherUid, sfpromptAsOtherUser } from "./other-user.js";
import { assertUserError, writeTinyJob } from "./run-helpers.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("sfprompt validate with a built-in model whose cache folder the user cannot write", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-cache-"));
    chmodSync(dir, 0o777);
    const tiny = writeTinyJob(dir);
    job = join(dir, "demo-job.yaml");
    writeFileSync(
      job,
      readFileSync(tiny, "utf8").replace(/source: \{ path: .* \}/, "source: { builtin: demo }"),
    );
    chmodSync(job, 0o644);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A cache root of root's (or 0555) at NAME, holding `models/` when `withModels`. */
  function closedCache(name: string, withModels: boolean): { cache: string; closed: string } {
    const cache = join(dir, name);
    mkdirSync(cache);
    if (withModels) mkdirSync(join(cache, "models"));
    const closed = withModels ? join(cache, "models") : cache;
    chmodSync(closed, asRoot ? 0o755 : 0o555);
    return { cache, closed };
  }

  const fix = (folder: string): string =>
    `${escape(folder)} cannot be written by this process's user \\(uid ${otherUid}, gid \\d+; EACCES\\): ` +
    `make it writable by uid ${otherUid}: chown -R ${otherUid}:\\d+ ${escape(shellQuote(folder))} ` +
    `\\(or chmod -R a\\+rwX ${escape(shellQuote(folder))}\\); set SFPROMPT_CACHE`;

  const cases = [
    {
      name: "a cache root it cannot make models/ in",
      withModels: false,
      message: (cache: string, closed: string): string =>
        `cache folder ${escape(join(cache, "models"))}: cannot be created: ${fix(closed)}`,
    },
    {
      name: "a models/ folder it cannot create the model's lock in (a path with a space)",
      withModels: true,
      message: (cache: string, closed: string): string => {
        const lock = `${demoModelDir(undefined, cache)}.lock`;
        return `cache folder ${escape(closed)}: its lock ${escape(lock)} cannot be created: ${fix(closed)}`;
      },
    },
  ];

  for (const [i, c] of cases.entries()) {
    it(`names ${c.name}, the user and the chown: validate exits 1, run before it starts`, () => {
      const { cache, closed } = closedCache(i === 1 ? "their cache" : "cache", c.withModels);
      const message = `: spec\\.model\\.source: builtin: demo: ${c.message(cache, closed)}`;
      const env = { SFPROMPT_CACHE: cache };
      // the run's --out: the default runs/ under the repository is no folder the other user may write
      const out = join(dir, `out-${i}`);
      const v = sfpromptAsOtherUser(env, "validate", job, "--out", out);
      assertUserError(v, new RegExp(`^sfprompt validate: ${escape(job)}${message}`, "m"));
      const r = sfpromptAsOtherUser(env, "run", job, "--out", out);
      assertUserError(r, new RegExp(`^sfprompt run: ${escape(job)}${message}`, "m"));
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
  }
});
