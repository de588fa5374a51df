// Whose folder is --out DIR: a folder holding only names a run writes too (a lone logs/ or config/ of
// the user's own, a metrics.json of theirs) was taken for a run's, and a first start removed them. A
// folder is a run's when something only a run writes shows it: the .sfprompt-run mark (written now
// into every folder a run takes), a metrics.json of a run's format, its nats/ JetStream store, a
// config/<method>.json process config, the lock of a killed run. Otherwise it is refused, with
// --fresh too, and left as it was (ADR 0016 amendment 49). Real CLI, real folders.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { RUN_FOLDER_MARK } from "../src/run/run-dir.js";
import { LOCK_FILE } from "../src/run/run-lock.js";
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

const HOLDER = new URL("./run-lock-holder-process.ts", import.meta.url).pathname;

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

/** A folder `name` under `root` holding `files` (relative path → text). */
function folderWith(root: string, name: string, files: Record<string, string>): string {
  const out = join(root, name);
  mkdirSync(out, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(out, f, ".."), { recursive: true });
    writeFileSync(join(out, f), text);
  }
  return out;
}

/** The command the refusal gives for marking the folder a run's, run as the user would paste it. */
function runSuggestedTouch(stderr: string): void {
  const touch = /\(touch (.+?)\) and run again/.exec(stderr);
  assert.ok(touch, `the refusal gives a touch command: ${stderr}`);
  const r = spawnSync("bash", ["-c", `touch ${touch[1]}`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

describe("sfprompt run into a folder holding only names a run writes too", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-evidence-"));
    job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{ name: string; files: Record<string, string>; holds: string; why?: RegExp }> = [
    { name: "a lone logs/ of the user's", files: { "logs/app.log": "my app's log\n" }, holds: "logs/" },
    {
      name: "a lone config/ of the user's, its file named as a method's",
      files: { "config/sfprompt.json": '{ "theme": "dark" }\n' },
      holds: "config/",
    },
    {
      name: "a metrics.json of the user's (another tool's format)",
      files: { "metrics.json": '{ "accuracy": 0.93, "loss": 0.2 }\n' },
      holds: "metrics.json",
      why: /its metrics\.json is not a run's \(version: /,
    },
    {
      name: "a metrics.json that is not JSON, and a logs/",
      files: { "metrics.json": "accuracy,loss\n0.93,0.2\n", "logs/app.log": "mine\n" },
      holds: "logs/, metrics.json",
      why: /its metrics\.json is not a run's \(not JSON: /,
    },
    {
      name: "a nats/ folder of the user's (no JetStream store in it)",
      files: { "nats/nats.conf": "port: 4222\n" },
      holds: "nats/",
    },
  ];
  for (const c of cases)
    it(`refuses ${c.name}, with --fresh too, and in validate, leaving every file`, () => {
      const out = folderWith(dir, c.name.replace(/\W+/g, "-"), c.files);
      const was = filesUnder(out);
      for (const command of [["run"], ["run", "--fresh"], ["validate"], ["validate", "--fresh"]]) {
        const r = sfprompt(command[0]!, job, "--out", out, ...command.slice(1));
        assertUserError(
          r,
          new RegExp(
            `run directory ${out}: is not an sfprompt run's folder, as far as it shows: it holds ${c.holds.replace(/[./]/g, "\\$&")}, ` +
              "names a run writes too, and nothing only a run writes \\(",
          ),
        );
        if (c.why !== undefined) assert.match(r.stderr, c.why);
        assert.match(
          r.stderr,
          /a start would remove them, whatever they hold \(--fresh too\); if an earlier sfprompt run wrote them, mark the folder as a run's \(touch \S+\) and run again, else choose a new or empty folder with --out DIR/,
        );
        assert.deepEqual(filesUnder(out), was, `${command.join(" ")}: the folder is as it was`);
      }
    });

  it("refuses the user's files beside a metrics.json that is not a run's, saying why", () => {
    const out = folderWith(dir, "project", {
      "notes.txt": "mine\n",
      "metrics.json": '{ "version": 1, "accuracy": 0.93 }\n',
    });
    const was = filesUnder(out);
    for (const mode of [[], ["--fresh"]]) {
      assertUserError(
        sfprompt("run", job, "--out", out, ...mode),
        /is not an sfprompt run's folder: it holds notes\.txt, and nothing only a run writes \(.*?\) \(its metrics\.json is not a run's \(job: .*\)\); a run would write its files beside them and, starting, remove its own names there \(metrics\.json\)/,
      );
      assert.deepEqual(filesUnder(out), was);
    }
  });

  it("takes an older sfprompt's run folder by its config/<method>.json, and one marked as the refusal says", () => {
    const out = join(dir, "older");
    const first = sfprompt("run", job, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(existsSync(join(out, RUN_FOLDER_MARK)), true, "a run marks the folder it takes");
    // what a run of an older sfprompt (no mark) killed before its first round leaves
    for (const f of [RUN_FOLDER_MARK, "metrics.json", "nats", "model", "params.bin", "summary.md"])
      rmSync(join(out, f), { recursive: true });
    for (const f of ["accuracy.svg", "traffic.svg"]) rmSync(join(out, f));
    assert.deepEqual(readdirSync(out).sort(), ["bundle", "config", "logs"]);
    const again = sfprompt("run", job, "--out", out);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      readRunMetrics(out).rounds.map((r) => r.round),
      [1],
    );
    // without its config/, nothing only a run writes is left: refused, until the user marks it
    for (const f of [RUN_FOLDER_MARK, "metrics.json", "nats", "config"])
      rmSync(join(out, f), { recursive: true });
    const refused = sfprompt("run", job, "--out", out);
    assertUserError(
      refused,
      /is not an sfprompt run's folder, as far as it shows: it holds .*bundle\/.*logs\//,
    );
    runSuggestedTouch(refused.stderr);
    const marked = sfprompt("run", job, "--out", out);
    assert.equal(marked.code, 0, marked.stderr);
    assert.equal(readRunMetrics(out).rounds.length, 1);
  });

  it("names every sign of a run's folder in both refusals, one list", () => {
    const lists = [
      folderWith(dir, "signs-mine", { "notes.txt": "mine\n" }),
      folderWith(dir, "signs-run-names", { "logs/app.log": "mine\n" }),
    ].map((out) => {
      const r = sfprompt("validate", job, "--out", out);
      assertUserError(r, /is not an sfprompt run's folder/);
      const list = /and nothing only a run writes \((.+?)\)(?: \(its|;)/.exec(r.stderr);
      assert.ok(list, `the refusal lists what only a run writes: ${r.stderr}`);
      return list[1]!;
    });
    assert.equal(lists[0], lists[1], "the user's files and a run's names are told one list");
    // amendment 49's signs, each one: the mark, metrics.json, the store, the process config, the lock
    for (const sign of [RUN_FOLDER_MARK, "metrics.json", "nats/", "config/<method>.json", LOCK_FILE])
      assert.ok(lists[0]!.includes(sign), `${sign} is named: ${lists[0]}`);
  });

  const notRunLocks: Array<{ name: string; text: string }> = [
    { name: "the user's text", text: "do not touch: alice is copying this folder\n" },
    { name: "a pid, then a line no run writes", text: "4242\nowner alice\n" },
    { name: "empty (a taker that never wrote), a minute old", text: "" },
  ];
  for (const c of notRunLocks)
    it(`refuses logs/ beside a ${LOCK_FILE} that is not a run's (${c.name}), in validate and in run`, () => {
      const out = folderWith(dir, `lock-${c.name.replace(/\W+/g, "-")}`, {
        "logs/app.log": "my app's log\n",
        [LOCK_FILE]: c.text,
      });
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(out, LOCK_FILE), old, old);
      const logs = filesUnder(join(out, "logs"));
      const notARuns =
        /is not an sfprompt run's folder, as far as it shows: it holds logs\/, names a run writes too/;
      assertUserError(sfprompt("validate", job, "--out", out), notARuns);
      assert.deepEqual(filesUnder(out), { "logs/app.log": "my app's log\n", [LOCK_FILE]: c.text });
      // the run takes the lock over (no live process holds it), and is refused all the same
      assertUserError(sfprompt("run", job, "--out", out), notARuns);
      assert.deepEqual(filesUnder(join(out, "logs")), logs, "the user's logs/ is as it was");
      assert.deepEqual(
        readdirSync(out).filter((n) => n !== LOCK_FILE),
        ["logs"],
        "the run wrote nothing there",
      );
    });

  it("tells a --compare run's folder by its top: a plain run goes on and keeps methods/ and compare.md, --fresh removes them", () => {
    const out = join(dir, "compared");
    const first = sfprompt("run", job, "--out", out, "--methods", "fl-full");
    assert.equal(first.code, 0, first.stderr);
    const baseline = join(out, "methods", "fl-full");
    // a baseline's folder: its own files, no mark and no store (the top's store holds its checkpoints)
    assert.equal(readdirSync(baseline).includes(RUN_FOLDER_MARK), false);
    assert.equal(readdirSync(baseline).includes("nats"), false);
    const kept = { ...filesUnder(baseline), "compare.md": readFileSync(join(out, "compare.md"), "utf8") };
    const plain = sfprompt("run", job, "--out", out);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /going on with tiny in /);
    assert.deepEqual(
      { ...filesUnder(baseline), "compare.md": readFileSync(join(out, "compare.md"), "utf8") },
      kept,
      "the baseline's files and the comparison are the --compare session's",
    );
    const fresh = sfprompt("run", job, "--out", out, "--fresh");
    assert.equal(fresh.code, 0, fresh.stderr);
    for (const name of ["methods", "compare.md", "compare.json"])
      assert.equal(existsSync(join(out, name)), false, `a start that is no resume removes ${name}`);
  });

  it("takes a folder whose lock a killed run left, in validate and in run", async () => {
    const out = join(dir, "killed");
    const holder = spawn(process.execPath, ["--conditions=source", "--import", "tsx", HOLDER, out], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once("data", () => resolve());
      holder.once("exit", (code) => reject(new Error(`the holder exited (${code}) before it held ${out}`)));
    });
    // an older sfprompt's run, killed after it wrote its first log
    folderWith(dir, "killed", { "logs/nats.log": "[1] starting nats-server\n" });
    const exited = new Promise((resolve) => holder.once("exit", resolve));
    holder.kill("SIGKILL");
    await exited;
    assert.deepEqual(readdirSync(out).sort(), [LOCK_FILE, "logs"]);
    const validate = sfprompt("validate", job, "--out", out);
    assert.equal(validate.code, 0, validate.stderr);
    const run = sfprompt("run", job, "--out", out);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readRunMetrics(out).rounds.length, 1);
  });
});
