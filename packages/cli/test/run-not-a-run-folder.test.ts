// `sfprompt run --out DIR` where DIR is a folder of the user's, not a run's: a run writes its files
// there and a start that is not a resume removes what has a run file's name (config/, logs/, model/,
// …), the user's own folders of those names included. Such a folder is refused, with --fresh too,
// and left as it was; a run folder the user added a file to is still a run folder (ADR 0016
// amendment 31). Real CLI, real files.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOCK_FILE } from "../src/run/run-lock.js";
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

/** Every file under `dir` with its text, by path relative to it. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

describe("sfprompt run into a folder that is not a run's", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-not-run-"));
    job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a folder of the user's files, naming it and --out, and leaves every file there", () => {
    const out = join(dir, "project");
    mkdirSync(join(out, "logs"), { recursive: true });
    mkdirSync(join(out, "config"));
    writeFileSync(join(out, "notes.txt"), "my notes\n");
    writeFileSync(join(out, "logs", "mine.log"), "my log\n");
    writeFileSync(join(out, "config", "my.yaml"), "a: 1\n");
    const before = filesUnder(out);
    for (const mode of [[], ["--fresh"]]) {
      const r = sfprompt("run", job, "--out", out, ...mode);
      assertUserError(
        r,
        new RegExp(
          `run directory ${out}: is not an sfprompt run's folder: it holds notes\\.txt, and nothing only a run writes \\([^)]*\\); ` +
            "a run would write its files beside them and, starting, remove its own names there \\(config/, logs/\\), " +
            "whatever they hold \\(--fresh too\\); choose a new or empty folder with --out DIR \\(or spec\\.output\\.path\\)",
        ),
      );
      assert.deepEqual(filesUnder(out), before, `${mode.join(" ")}: the folder is as it was`);
      assert.equal(existsSync(join(out, LOCK_FILE)), false, "the folder is released");
    }
  });

  it("names three of many files and how many more", () => {
    const out = join(dir, "many");
    mkdirSync(out);
    for (const f of ["e.txt", "d.txt", "c.txt", "b.txt", "a.txt"]) writeFileSync(join(out, f), "x\n");
    assertUserError(
      sfprompt("run", job, "--out", out),
      /is not an sfprompt run's folder: it holds a\.txt, b\.txt, c\.txt and 2 more, and nothing only a run writes \([^)]*\); a run would write its files beside them; choose a new or empty folder/,
    );
    assert.deepEqual(readdirSync(out).sort(), ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]);
  });

  it("runs in an empty folder that was there, and again after the user added a file to the run", () => {
    const out = join(dir, "empty");
    mkdirSync(out);
    const first = sfprompt("run", job, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    writeFileSync(join(out, "notes.md"), "what I saw\n");
    const again = sfprompt("run", job, "--out", out, "--rounds", "2");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /resuming tiny from the checkpoint of round 1/);
    assert.deepEqual(
      readRunMetrics(out).rounds.map((r) => r.round),
      [1, 2],
    );
    const fresh = sfprompt("run", job, "--out", out, "--fresh");
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(readFileSync(join(out, "notes.md"), "utf8"), "what I saw\n", "the user's file stays");
  });

  it("runs in a folder holding only what git, macOS and Windows leave there, and leaves each as it was", () => {
    const out = join(dir, "kept empty");
    // git's placeholder; Finder's view settings, a volume's Spotlight index and trash, AppleDouble
    // files (a folder copied from a Mac); Explorer's thumbnail cache and folder settings
    const placeholders: Record<string, string> = {
      ".gitkeep": "",
      ".DS_Store": "Bud1 finder view\n",
      ".Spotlight-V100/Store-V2/index": "spotlight\n",
      ".Trashes/501/old.txt": "trashed\n",
      "._notes.txt": "AppleDouble\n",
      "Thumbs.db": "thumbnails\n",
      "Desktop.ini": "[.ShellClassInfo]\n",
    };
    for (const [f, text] of Object.entries(placeholders)) {
      mkdirSync(join(out, f, ".."), { recursive: true });
      writeFileSync(join(out, f), text);
    }
    const first = sfprompt("run", job, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readRunMetrics(out).rounds.length, 1);
    const fresh = sfprompt("run", job, "--out", out, "--fresh");
    assert.equal(fresh.code, 0, fresh.stderr);
    for (const [f, text] of Object.entries(placeholders))
      assert.equal(readFileSync(join(out, f), "utf8"), text, `${f} stays`);
  });
});
