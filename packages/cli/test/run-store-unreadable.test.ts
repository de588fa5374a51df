// `sfprompt run --out DIR` where DIR's nats/ store cannot be listed: an earlier run there by another
// user (root's `sudo sfprompt run`, say), or a file named nats. It ended in an internal error with a
// stack trace; it now names the store and what to do, and --fresh replaces a file in its place.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { loadableAs } from "../../sfprompt/test/checkout-for-user.js";
import { RUN_FOLDER_MARK } from "../src/run/run-dir.js";
import { asRoot, otherUid } from "./other-user.js";
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob, type CliResult } from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
/** nobody: as root, the other user is played by running the CLI as nobody (root reads any folder). */
const OTHER_USER = { uid: 65534, gid: 65534 };

/** The CLI run as a user who is not the store's owner. */
function sfpromptAsAnotherUser(...args: string[]): CliResult {
  // from a copy of the checkout where nobody cannot read it (a clone under /root)
  const at = loadableAs(asRoot ? OTHER_USER : undefined, MAIN);
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", at.file, ...args], {
    cwd: at.root,
    encoding: "utf8",
    timeout: 60_000,
    killSignal: "SIGKILL",
    ...(asRoot ? OTHER_USER : {}),
    // tsx keeps its cache in the temp folder per user; HOME is not read
    env: { ...process.env, HOME: tmpdir() },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("sfprompt run on a run directory whose nats/ store cannot be listed", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-store-"));
    job = writeTinyJob(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names a store another user wrote, and what to do, without a stack trace", () => {
    const out = join(dir, "theirs");
    mkdirSync(join(out, "nats", "jetstream"), { recursive: true });
    chmodSync(join(out, "nats"), 0o700);
    // the folder, the job and its model are open to anyone: only the store is the owner's
    for (const p of [dir, out]) chmodSync(p, 0o777);
    if (process.getuid?.() !== 0) chmodSync(join(out, "nats"), 0o000);
    assertUserError(
      sfpromptAsAnotherUser("run", job, "--out", out),
      /run directory \S+theirs: its JetStream store \S+theirs\/nats cannot be read by this user \(an earlier run as another user\?\); run as that user or change the owner, or choose another folder with --out DIR \(EACCES\)/,
    );
  });

  it("names a file in the store's place, and --fresh removes it and runs", () => {
    const out = join(dir, "file");
    mkdirSync(out);
    // a run's folder (every run marks the one it takes; a lone file named nats shows no run, and is
    // refused as not a run's folder: ADR 0016 amendment 49)
    writeFileSync(join(out, RUN_FOLDER_MARK), "");
    writeFileSync(join(out, "nats"), "not a store\n");
    assertUserError(
      sfprompt("run", job, "--out", out),
      /its JetStream store \S+file\/nats is a file, not a folder; add --fresh to remove it, or choose another folder with --out DIR \(ENOTDIR\)/,
    );
    const r = sfprompt("run", job, "--out", out, "--fresh");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      readRunMetrics(out).rounds.map((x) => x.round),
      [1, 2],
    );
  });
});

// An earlier run's metrics.json another user wrote (root's `sudo sfprompt run` into the user's own run
// folder, at 0600): validate and run said "metrics.json is not valid JSON (EACCES …); run with --fresh
// to start clean", which sent the user to delete a run's results that are whole. It is said as other
// files the user cannot read are: the file, the user and the chmod (ADR 0016 amendment 65).
describe("sfprompt validate and run on a run directory whose metrics.json another user wrote", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-metrics-"));
    job = writeTinyJob(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const command of ["validate", "run"])
    it(`${command} names the file, the user and the chmod, not JSON`, () => {
      const out = join(dir, `mine-${command}`);
      mkdirSync(out);
      // the folder, the job and its model are open to anyone: only metrics.json is the owner's
      for (const p of [dir, out]) chmodSync(p, 0o777);
      writeFileSync(join(out, RUN_FOLDER_MARK), "");
      const metrics = join(out, "metrics.json");
      writeFileSync(metrics, "{}\n");
      chmodSync(metrics, asRoot ? 0o600 : 0o000);
      const r = sfpromptAsAnotherUser(command, job, "--out", out);
      const m = metrics.replace(/[.]/g, "\\.");
      assertUserError(
        r,
        new RegExp(
          `run directory ${out}: ${m} cannot be read by this process's user \\(uid ${otherUid}, gid \\d+; EACCES\\): make the file readable by uid ${otherUid} on this machine: chmod a\\+r ${m} \\(or chown ${otherUid}:\\d+ ${m}\\), and its folders searchable \\(a\\+x\\)`,
        ),
      );
      assert.doesNotMatch(r.stderr, /not valid JSON/);
      chmodSync(metrics, 0o644);
    });
});
