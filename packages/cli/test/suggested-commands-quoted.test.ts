// The commands `sfprompt run`'s refusals suggest, pasted into bash as they are, at paths holding a
// space, a quote and a $: the paths were not quoted, so `chmod a+r /x/it's data/…` was a syntax error
// and `rm -rf /x/my run/out/bundle` removed /x/my and ./run/out/bundle instead of the bundle. Each case
// takes the command from a real refusal, runs it with bash, and checks it did what it says and
// touched nothing else. Real CLI (as nobody where the data case needs another user), real files.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { buildDemoVit, CARD_FILE, DEMO_RECIPE, demoModelDir, MODEL_FILE } from "@sfprompt/core";
import { BUNDLE_FILES, writeModel } from "@sfprompt/engine";
import { loadableAs } from "../../sfprompt/test/checkout-for-user.js";
import { LOCK_FILE } from "../src/run/run-lock.js";
import { RUN_FOLDER_MARK } from "../src/run/run-folder.js";
import {
  assertUserError,
  readRunMetrics,
  ROOT,
  sfprompt,
  sfpromptWithin,
  writeTinyJob,
  type CliResult,
} from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
/** nobody: as root, the run's user is played by running the CLI as nobody (root reads any file). */
const OTHER_USER = { uid: 65534, gid: 65534 };
const asRoot = process.getuid?.() === 0;

function sfpromptAsRunUser(...args: string[]): CliResult {
  const uid = asRoot ? OTHER_USER.uid : (process.getuid?.() ?? -1);
  // from a copy of the checkout where nobody cannot read it (a clone under /root)
  const at = loadableAs(asRoot ? OTHER_USER : undefined, MAIN);
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", at.file, ...args], {
    cwd: at.root,
    encoding: "utf8",
    timeout: 180_000,
    killSignal: "SIGKILL",
    ...(asRoot ? OTHER_USER : {}),
    env: { ...process.env, HOME: tmpdir(), SFPROMPT_CACHE: join(tmpdir(), `sfprompt-cache-${uid}`) },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The command `pattern`'s first group finds in `said`, run with bash in `cwd` (exit 0 expected). */
function runSuggested(said: string, pattern: RegExp, cwd: string): string {
  const command = pattern.exec(said)?.[1];
  assert.ok(command !== undefined, `no command matching ${String(pattern)} in: ${said}`);
  const r = spawnSync("bash", ["-c", command], { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, `${command}: ${r.stderr}`);
  return command;
}

/** Every path under `root`, relative to it, with its owner and mode ("path uid mode"). */
function tree(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    const st = statSync(path);
    const here = `${relative(root, path)} ${st.uid} ${(st.mode & 0o7777).toString(8)}`;
    return e.isDirectory() ? [here, ...tree(root, path)] : [here];
  });
}

/** A shell reads this as three words, an open quote and $HOME's value. */
const ODD = "it's $HOME";

/** Whether `file` can be read by the run's user (nobody as root, else this user). */
function readableByRunUser(file: string): boolean {
  const r = spawnSync("test", ["-r", file], asRoot ? OTHER_USER : {});
  return r.status === 0;
}

const line = (i: number): string =>
  JSON.stringify({ x: Array.from({ length: 784 }, (_, j) => ((i + j) % 7) / 7), label: i % 3 });

function writeJsonl(file: string, n: number): void {
  writeFileSync(file, `${Array.from({ length: n }, (_, i) => line(i)).join("\n")}\n`);
}

describe("the commands sfprompt run suggests, at paths with a space, a quote and a $", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-quoted-"));
    chmodSync(dir, 0o777);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("an unreadable JSONL file: its chmod makes that file readable, and only it", () => {
    const data = join(dir, "it's $HOME data");
    mkdirSync(data, { mode: 0o777 });
    chmodSync(data, 0o777);
    const train = join(data, "train set.jsonl");
    writeJsonl(train, 24);
    writeJsonl(join(data, "test.jsonl"), 12);
    // what an unquoted `chmod a+r …/train set.jsonl` would reach instead: …/train and ./set.jsonl
    const decoys = [join(data, "train"), join(dir, "set.jsonl")];
    for (const d of decoys) writeFileSync(d, "not the data\n", { mode: 0o600 });
    const tiny = readFileSync(writeTinyJob(dir, "{ rounds: 1, batchSize: 8 }"), "utf8").split("\n");
    tiny.splice(
      tiny.indexOf("  data:"),
      3,
      "  data:",
      `    source: { jsonl: { path: ${JSON.stringify(train)} } }`,
      `    evalSource: { jsonl: { path: ${JSON.stringify(join(data, "test.jsonl"))} } }`,
    );
    const job = join(dir, "own.yaml");
    writeFileSync(
      job,
      tiny.join("\n").replace("clients: { count: 2 }", "clients: { count: 2 }\n  classes: { numClasses: 3 }"),
    );
    chmodSync(train, asRoot ? 0o600 : 0o000);
    const r = sfpromptAsRunUser("run", job, "--out", join(dir, "out-data"));
    assertUserError(r, /spec\.data\.source: .* cannot be read by this process's user/);
    assert.equal(readableByRunUser(train), false);
    // the owner (root here, who copied the file in) runs the fix, in a folder holding its own set.jsonl
    runSuggested(r.stderr, /on this machine: (chmod a\+r .*?) \(or chown/, dir);
    assert.equal(readableByRunUser(train), true, "the data file is readable by the run's user");
    for (const d of decoys) assert.equal(statSync(d).mode & 0o777, 0o600, `${d} untouched`);
  });

  it("a damaged bundle: its rm -rf removes the bundle folder, and only it; the run then goes on", () => {
    const root = join(dir, "bundle-case");
    mkdirSync(root);
    const job = writeTinyJob(root, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
    const out = join(root, "my run", "out");
    const first = sfprompt("run", job, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    // what an unquoted `rm -rf …/my run/out/bundle` would remove instead: …/my and ./run/out/bundle
    const cwd = join(root, "cwd");
    const decoys = [join(root, "my"), join(cwd, "run", "out", "bundle")];
    for (const d of decoys) mkdirSync(d, { recursive: true });
    const bundle = join(out, "bundle");
    rmSync(join(bundle, BUNDLE_FILES.tailGrad));
    const resumed = sfprompt("run", job, "--out", out, "--rounds", "2");
    assertUserError(resumed, /its bundle file .* cannot be opened \(ENOENT\)/);
    runSuggested(resumed.stderr, /\((rm -rf .*?)\) to have it prepared again/, cwd);
    assert.equal(existsSync(bundle), false, "the bundle folder is removed");
    for (const d of decoys) assert.equal(existsSync(d), true, `${d} untouched`);
    assert.equal(readRunMetrics(out).rounds.length, 1, "the run's other files stay");
    const again = sfprompt("run", job, "--out", out, "--rounds", "2");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readRunMetrics(out).rounds.length, 2);
  });

  const damages: Array<{
    name: string;
    damage: (bundle: string) => void;
    said: RegExp;
    /** The resumed run's flags (default --rounds 2: it trains on). */
    resume?: string[];
  }> = [
    {
      name: "a bundle graph cut short after the first session",
      // there (it passes the resumed run's check before the start), readable, and no ONNX model
      damage: (bundle) => {
        const tail = join(bundle, BUNDLE_FILES.tail);
        const whole = readFileSync(tail);
        writeFileSync(tail, whole.subarray(0, whole.length >> 1));
      },
      said: /BundleError: cannot read .*tail\.onnx: the bundle is damaged: prepare it again where it is/,
    },
    {
      name: "a bundle of another version (its manifest names a tail output its graph lacks)",
      damage: (bundle) => {
        const path = join(bundle, "manifest.json");
        const manifest = JSON.parse(readFileSync(path, "utf8")) as {
          gradients: { tail: { logits: string } };
        };
        manifest.gradients.tail.logits = "logits_v0";
        writeFileSync(path, JSON.stringify(manifest));
      },
      said: /BundleError: grad\/tail\.onnx has no output "logits_v0" .*: the bundle is from another version: prepare it again where it is/,
    },
    {
      // no process starts (the finished result is reused), but the client FLOPs share reads the
      // forward graphs: it said the bare "prepare it again with sfprompt prepare (… sfprompt prepare --help)"
      name: "a forward graph cut short after the run finished, the run run again to reuse its result",
      damage: (bundle) => {
        const head = join(bundle, BUNDLE_FILES.head);
        const whole = readFileSync(head);
        writeFileSync(head, whole.subarray(0, whole.length >> 1));
      },
      said: /sfprompt run: cannot read .*head\.onnx: the bundle is damaged: prepare it again where it is/,
      resume: [],
    },
  ];
  for (const c of damages)
    it(`${c.name}: the sfprompt prepare command the run's process gives, run with bash, prepares the bundle again there, and only there; the run then goes on`, () => {
      const root = join(dir, `graph-case-${damages.indexOf(c)}`);
      mkdirSync(root);
      const job = writeTinyJob(root, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
      const out = join(root, `${ODD} run`, "out");
      const first = sfprompt("run", job, "--out", out);
      assert.equal(first.code, 0, first.stderr);
      const bundle = join(out, "bundle");
      const files = (): Record<string, string> =>
        Object.fromEntries(
          [BUNDLE_FILES.head, BUNDLE_FILES.tail, "manifest.json"].map((f) => [
            f,
            readFileSync(join(bundle, f)).toString("base64"),
          ]),
        );
      const prepared = files();
      c.damage(bundle);
      const resumed = sfprompt("run", job, "--out", out, ...(c.resume ?? ["--rounds", "2"]));
      assert.equal(resumed.code, 1, resumed.stderr);
      assert.match(resumed.stderr, c.said);
      assert.doesNotMatch(resumed.stderr, /re-run `sfprompt prepare`/);
      // `sfprompt` on PATH as a user has it: the CLI of this tree (the command's paths are absolute)
      const bin = join(root, "bin");
      mkdirSync(bin);
      writeFileSync(
        join(bin, "sfprompt"),
        `#!/bin/sh\ncd ${JSON.stringify(ROOT)} && exec ${JSON.stringify(process.execPath)} --conditions=source --import tsx packages/cli/src/main.ts "$@"\n`,
        { mode: 0o755 },
      );
      const command = /checkpoints fit\): (sfprompt prepare .*?); then run sfprompt run again/.exec(
        resumed.stderr,
      )?.[1];
      assert.ok(command !== undefined, `no sfprompt prepare command in: ${resumed.stderr}`);
      const others = (): string[] => tree(root).filter((p) => !p.startsWith(`${relative(root, bundle)}/`));
      const before = others();
      const r = spawnSync("bash", ["-c", command], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
      });
      assert.equal(r.status, 0, `${command}: ${r.stderr}`);
      assert.deepEqual(files(), prepared, "the same model and split give the same bundle");
      assert.deepEqual(others(), before, "nothing outside the bundle changed");
      const again = sfprompt("run", job, "--out", out, "--rounds", "2");
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        readRunMetrics(out).rounds.map((round) => round.round),
        [1, 2],
      );
    });

  it("a run folder whose lock a run of another container left: its rm -f removes the lock, and only it; validate then passes", () => {
    const root = join(dir, "lock-case");
    mkdirSync(root);
    const job = writeTinyJob(root);
    const out = join(root, `${ODD} run`);
    mkdirSync(out);
    writeFileSync(join(out, RUN_FOLDER_MARK), "an earlier run's\n");
    // pid 1 of another pid namespace: pid 1 runs here too (init), so the lock reads as held for good
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    writeFileSync(join(out, LOCK_FILE), `1\nstarted ${boot} 1\npidns pid:[1]\n`);
    const r = sfprompt("validate", job, "--out", out);
    assertUserError(r, /is in use by another sfprompt run \(pid 1\)/);
    const before = tree(root);
    runSuggested(r.stderr, /remove its lock: (rm -f .*)$/m, root);
    const lock = `${relative(root, join(out, LOCK_FILE))} `;
    assert.deepEqual(
      tree(root),
      before.filter((p) => !p.startsWith(lock)),
      "only the lock is gone",
    );
    const again = sfprompt("validate", job, "--out", out);
    assert.equal(again.code, 0, again.stderr);
  });

  it("a run folder whose lock a run is writing now (no pid yet): no rm is suggested (a run takes such a lock over itself once it is 10 s old)", () => {
    const root = join(dir, "starting-case");
    mkdirSync(root);
    const job = writeTinyJob(root);
    const out = join(root, `${ODD} run`);
    mkdirSync(out);
    writeFileSync(join(out, LOCK_FILE), "");
    const r = sfprompt("validate", job, "--out", out);
    assertUserError(
      r,
      /is in use by another sfprompt run \(starting\); wait for it to finish or stop it, or choose another --out DIR$/m,
    );
    assert.doesNotMatch(r.stderr, /rm -f/);
  });

  it("a run directory under a folder the run's user cannot write in: the command makes that directory for the user, and only it; validate then passes", () => {
    const root = join(dir, "made-case");
    mkdirSync(root);
    chmodSync(root, 0o777);
    const job = writeTinyJob(root);
    chmodSync(job, 0o644);
    const closed = join(root, `${ODD} closed`);
    mkdirSync(closed);
    chmodSync(closed, asRoot ? 0o755 : 0o555);
    const out = join(closed, "runs", "tiny run");
    const r = sfpromptAsRunUser("validate", job, "--out", out);
    assertUserError(
      r,
      /cannot be created \(EACCES\): .* cannot be written by this process's user \(uid \d+, gid \d+; EACCES\)/,
    );
    const before = tree(root);
    // run by the folder's owner: root here, which made it (as another user, the user itself)
    runSuggested(
      r.stderr,
      asRoot ? /or root make the run directory for uid \d+: (.*)$/m : /make it writable: (.*)$/m,
      root,
    );
    const made = [join(closed, "runs"), out].map((d) => `${relative(root, d)} `);
    const changed = (p: string): boolean =>
      made.some((m) => p.startsWith(m)) || p.startsWith(`${relative(root, closed)} `);
    assert.deepEqual(
      tree(root).filter((p) => !changed(p)),
      before.filter((p) => !changed(p)),
      "nothing else changed",
    );
    const again = sfpromptAsRunUser("validate", job, "--out", out);
    assert.equal(again.code, 0, again.stderr);
  });

  it("a run directory the run's user cannot write: the command gives that directory to the user, and only it; validate then passes", () => {
    const root = join(dir, "written-case");
    mkdirSync(root);
    chmodSync(root, 0o777);
    const job = writeTinyJob(root);
    chmodSync(job, 0o644);
    const out = join(root, `${ODD} run`);
    mkdirSync(out);
    writeFileSync(join(out, RUN_FOLDER_MARK), "an earlier run's\n");
    // what an unquoted command's words would reach instead
    mkdirSync(join(root, "it"));
    chmodSync(out, asRoot ? 0o755 : 0o555);
    const r = sfpromptAsRunUser("validate", job, "--out", out);
    assertUserError(
      r,
      /cannot be written \(EACCES\): .* cannot be written by this process's user \(uid \d+, gid \d+; EACCES\)/,
    );
    const before = tree(root);
    runSuggested(r.stderr, asRoot ? /or root give it to uid \d+: (.*)$/m : /make it writable: (.*)$/m, root);
    const mine = (p: string): boolean =>
      p.startsWith(`${relative(root, out)} `) || p.startsWith(`${relative(root, out)}/`);
    assert.deepEqual(
      tree(root).filter((p) => !mine(p)),
      before.filter((p) => !mine(p)),
      "nothing else changed",
    );
    const again = sfpromptAsRunUser("validate", job, "--out", out);
    assert.equal(again.code, 0, again.stderr);
  });

  it("a run directory under a folder the run's user cannot search: the command lets the user through that folder, and changes nothing else; validate then passes", () => {
    const root = join(dir, "searched-case");
    mkdirSync(root);
    chmodSync(root, 0o777);
    const job = writeTinyJob(root);
    chmodSync(job, 0o644);
    // the run's user's own run directory, in a folder it may not pass through (no x bit for it)
    const locked = join(root, `${ODD} locked`);
    const out = join(locked, "tiny run");
    mkdirSync(out, { recursive: true });
    if (asRoot) chownSync(out, OTHER_USER.uid, OTHER_USER.gid);
    chmodSync(locked, asRoot ? 0o700 : 0o600);
    const cannotSearch =
      /run directory .*: cannot be reached \(EACCES\): .* locked, owned by uid \d+, is a folder above it that this process's user \(uid \d+, gid \d+; EACCES\) cannot search; choose a folder you can write with --out DIR/;
    const [r] = ["validate", "run"].map((command) => {
      const refused = sfpromptAsRunUser(command, job, "--out", out);
      assertUserError(refused, cannotSearch);
      // neither makes nor gives the run directory: it is there, and its own
      assert.doesNotMatch(refused.stderr, /chown|mkdir -p/);
      return refused;
    });
    const before = tree(root);
    // run by the folder's owner: root here (as another user, the user itself)
    runSuggested(
      r!.stderr,
      asRoot ? /or root let uid \d+ through it: (.*)$/m : /let yourself through it: (.*)$/m,
      root,
    );
    const lockedLine = (p: string): boolean => p.startsWith(`${relative(root, locked)} `);
    assert.deepEqual(
      tree(root).filter((p) => !lockedLine(p)),
      before.filter((p) => !lockedLine(p)),
      "nothing else changed",
    );
    assert.equal(statSync(locked).mode & 0o777, asRoot ? 0o701 : 0o700, "only its x bit for the user");
    const again = sfpromptAsRunUser("validate", job, "--out", out);
    assert.equal(again.code, 0, again.stderr);
  });

  it("a cached demo card that is not a card: its rm -rf removes that model's folder, and only it", () => {
    const cache = join(dir, `${ODD} cache`);
    const model = demoModelDir(DEMO_RECIPE, cache);
    mkdirSync(model, { recursive: true });
    writeModel(join(model, MODEL_FILE), buildDemoVit(DEMO_RECIPE.architecture, 1).model);
    writeFileSync(join(model, CARD_FILE), "{}\n");
    // another model of the cache, which the command must leave
    mkdirSync(`${model}-other`);
    writeFileSync(join(`${model}-other`, MODEL_FILE), "another model\n");
    const r = sfpromptWithin(60_000, "demo-model", "--cache", cache);
    assertUserError(r, /is not a demo model card/);
    const before = tree(dir);
    runSuggested(r.stderr, /\((rm -rf .*?)\) so that the model is built again/, dir);
    const gone = `${relative(dir, model)} `;
    const inside = `${relative(dir, model)}/`;
    assert.deepEqual(
      tree(dir),
      before.filter((p) => !p.startsWith(gone) && !p.startsWith(inside)),
      "only the model's folder is gone",
    );
  });

  it("a cached demo model cut short: validate's rm -rf removes that model's folder, and only it", () => {
    const root = join(dir, "cut-case");
    mkdirSync(root);
    const cache = join(root, `${ODD} cache`);
    const model = demoModelDir(DEMO_RECIPE, cache);
    mkdirSync(model, { recursive: true });
    const file = join(model, MODEL_FILE);
    writeModel(file, buildDemoVit(DEMO_RECIPE.architecture, 1).model);
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    writeFileSync(join(model, CARD_FILE), "{}\n");
    mkdirSync(`${model}-other`);
    writeFileSync(join(`${model}-other`, MODEL_FILE), "another model\n");
    const job = join(ROOT, "examples", "demo-job.yaml");
    const r = spawnSync(
      process.execPath,
      ["--conditions=source", "--import", "tsx", MAIN, "validate", job, "--out", join(root, "out")],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, SFPROMPT_CACHE: cache } },
    );
    assertUserError(
      { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr },
      /the cached model is damaged: remove its folder/,
    );
    const before = tree(root);
    runSuggested(r.stderr, /\((rm -rf .*?)\) so that the next run builds it again/, root);
    const gone = (p: string): boolean =>
      p.startsWith(`${relative(root, model)} `) || p.startsWith(`${relative(root, model)}/`);
    assert.deepEqual(
      tree(root),
      before.filter((p) => !gone(p)),
      "only the model's folder is gone",
    );
  });
});
