// scikit-learn's digits and debian-sections read from a file this process's user cannot read: the
// user and the chmod are named (DatasetUnreadableError), as for Fashion-MNIST (c71603a). They were
// "not found" behind a folder the user may not search (existsSync answers false; the digits went on to
// the next place to look), and a bare EACCES for a 0600 file of another owner. The loaders run in a
// real process as nobody when the tests run as root (root reads anything), else as this user with
// the modes closed (000).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { debianSectionsPath } from "../../src/datasets/debian-sections.js";
import { findSklearnDigits } from "../../src/datasets/sklearn-digits.js";
import { loadableAs } from "../checkout-for-user.js";

const CHILD = fileURLToPath(new URL("./unreadable-child.ts", import.meta.url));
const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };
const uid = asRoot ? NOBODY.uid : (process.getuid?.() ?? -1);

interface Outcome {
  readonly name?: string;
  readonly message?: string;
  readonly loaded?: number;
}

function loadAsOtherUser(which: "digits" | "debian-sections", env: Record<string, string>): Outcome {
  // from a copy of the checkout where nobody cannot read it (a clone under /root)
  const at = loadableAs(asRoot ? NOBODY : undefined, CHILD);
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", at.file, which], {
    cwd: at.root,
    encoding: "utf8",
    timeout: 120_000,
    ...(asRoot ? NOBODY : {}),
    // tsx keeps its cache in the temp folder per user
    env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Outcome;
}

const digits = findSklearnDigits();
const cases = [
  { which: "digits" as const, variable: "SFPROMPT_SKLEARN_DIGITS", file: "digits.csv.gz", source: digits },
  {
    which: "debian-sections" as const,
    variable: "SFPROMPT_DEBIAN_SECTIONS",
    file: "debian-sections.jsonl.gz",
    source: debianSectionsPath(),
  },
];

describe("built-in data files the user cannot read", () => {
  for (const c of cases) {
    const skip =
      c.source === undefined ? "scikit-learn digits not fetched (scripts/fetch-sklearn-digits.sh)" : false;
    for (const closed of ["folder", "file"] as const)
      it(`${c.which}: a ${closed} closed to the user names the user and the chmod`, { skip }, () => {
        const dir = mkdtempSync(join(tmpdir(), "sfp-unreadable-"));
        try {
          chmodSync(dir, 0o755);
          const folder = join(dir, "data");
          mkdirSync(folder);
          const path = join(folder, c.file);
          copyFileSync(c.source as string, path);
          // as root the copy is root's: 0700/0600 shut out nobody; as a user, 000 shuts out the owner
          if (closed === "folder") chmodSync(folder, asRoot ? 0o700 : 0o000);
          else chmodSync(path, asRoot ? 0o600 : 0o000);
          const r = loadAsOtherUser(c.which, { [c.variable]: path });
          assert.equal(r.name, "DatasetUnreadableError", JSON.stringify(r));
          assert.match(
            r.message ?? "",
            new RegExp(
              `^${path.replaceAll(".", "\\.")} cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): ` +
                `make the file readable by uid ${uid} on this machine: chmod a\\+r ${path.replaceAll(".", "\\.")} ` +
                `\\(or chown ${uid}:\\d+ [^)]+\\), and its folders searchable \\(a\\+x\\); see docs/datasets\\.md$`,
            ),
          );
          // the same file opened to the user loads: the refusal was the mode's, not the copy's
          chmodSync(folder, 0o755);
          chmodSync(path, 0o644);
          assert.ok((loadAsOtherUser(c.which, { [c.variable]: path }).loaded ?? 0) > 0);
        } finally {
          chmodSync(join(dir, "data"), 0o755);
          rmSync(dir, { recursive: true, force: true });
        }
      });
  }
});
