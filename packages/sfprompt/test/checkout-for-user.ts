// Tests that run a TypeScript entry point (through tsx) as another user: as root, nobody (65534) or
// the images' 10001 plays a user that cannot read root's files. That user must be able to load the
// checkout's own code, which it cannot where the checkout lies under a private folder: a fresh
// machine's `git clone` as root into /root (mode 0700, as on any Debian) left every such test
// failing with "Cannot find package 'tsx' imported from /root/…". There the code is run from a copy
// of the checkout made of hard links in the temp folder (the same files, so the same code and modes),
// made once per test file and removed when the file's process exits.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout (the repository's root folder). */
export const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url));

export interface OtherUser {
  readonly uid: number;
  readonly gid: number;
}

/** True when `user` can open tsx and `file` (both under `root`). */
function canLoad(root: string, file: string, user: OtherUser): boolean {
  const files = [join(root, "node_modules/tsx/package.json"), file];
  const check = `const fs = require("node:fs"); for (const f of ${JSON.stringify(files)}) fs.accessSync(f, fs.constants.R_OK)`;
  return spawnSync(process.execPath, ["-e", check], { cwd: "/", stdio: "ignore", ...user }).status === 0;
}

/** Per uid: the folder that user loads the checkout's code from (the checkout itself, or a copy). */
const roots = new Map<number, string>();

function linkedCopy(user: OtherUser): string {
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-checkout-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const names = readdirSync(CHECKOUT).filter((n) => n !== ".git" && n !== "runs");
  try {
    execFileSync("cp", ["-al", ...names.map((n) => join(CHECKOUT, n)), dir], { stdio: "pipe" });
  } catch (error) {
    throw new Error(
      `uid ${user.uid} cannot read the checkout ${CHECKOUT} (a folder above it is not searchable by others) ` +
        `and linking it into ${dir} failed (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}): ` +
        `run the tests from a checkout outside a private home folder, or make the folders above it searchable (chmod o+x)`,
      { cause: error },
    );
  }
  return dir;
}

/**
 * Where `user` (none: this process's own) runs `file`, a file of the checkout: `root` for the
 * child's cwd and `file` for its command line. The checkout itself when that user can load from it;
 * else the same file in a hard-link copy of the checkout, or an error saying what to do.
 */
export function loadableAs(user: OtherUser | undefined, file: string): { root: string; file: string } {
  if (user === undefined) return { root: CHECKOUT, file };
  let root = roots.get(user.uid);
  if (root === undefined) {
    root = canLoad(CHECKOUT, file, user) ? CHECKOUT : linkedCopy(user);
    roots.set(user.uid, root);
  }
  const at = join(root, relative(CHECKOUT, file));
  if (root !== CHECKOUT && !canLoad(root, at, user)) {
    throw new Error(
      `uid ${user.uid} cannot read ${file} nor its linked copy ${at} (the files are not readable by others): ` +
        `run the tests from a checkout whose files are readable by all (chmod -R a+rX)`,
    );
  }
  return { root, file: at };
}
