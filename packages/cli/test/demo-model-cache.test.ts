// `sfprompt demo-model --cache DIR` (and SFPROMPT_CACHE) where DIR cannot hold the cache: under /proc
// Node's recursive mkdir looped forever, deaf to Ctrl-C, and under a file it ended in an internal
// error with a stack trace; both now name the folder and how to choose another (exit 1). A folder the
// user cannot write in said only "(EACCES)"; it now names the user and the chown/chmod. As root, the
// user is played by running the CLI as nobody (root writes anywhere); as another user, the folder is
// made 0555.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { assertUserError, ROOT, sfpromptWithin, type CliResult } from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const OTHER_USER = { uid: 65534, gid: 65534 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? OTHER_USER.uid : (process.getuid?.() ?? -1);

function sfpromptAsOtherUser(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    killSignal: "SIGKILL",
    ...(asRoot ? OTHER_USER : {}),
    // tsx keeps its cache in the temp folder per user
    env: { ...process.env, HOME: tmpdir() },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

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

  it("names the user that cannot write in the folder, and the chown that fixes it", () => {
    const cache = join(dir, "roots");
    mkdirSync(cache);
    chmodSync(dir, 0o755);
    chmodSync(cache, asRoot ? 0o755 : 0o555);
    assertUserError(
      sfpromptAsOtherUser("demo-model", "--cache", cache),
      new RegExp(
        `cache folder ${cache}/models: cannot be created: ${cache} cannot be written by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make it writable by uid ${uid}: chown -R ${uid}:\\d+ ${cache} \\(or chmod -R a\\+rwX ${cache}\\); ${hint}`,
      ),
    );
  });
});
