// `sfprompt demo-model --cache DIR` (and SFPROMPT_CACHE) where DIR cannot hold the cache: under /proc
// Node's recursive mkdir looped forever, deaf to Ctrl-C, and under a file it ended in an internal
// error with a stack trace; both now name the folder and how to choose another (exit 1). A folder the
// user cannot write in said only "(EACCES)"; it now names the user and the chown/chmod. As root, the
// user is played by running the CLI as nobody (root writes anywhere); as another user, the folder is
// made 0555.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildDemoVit, CARD_FILE, DEMO_RECIPE, demoModelDir, MODEL_FILE } from "@sfprompt/core";
import { readModelOutline, writeModel } from "@sfprompt/engine";
import { encodeIdxBytes } from "../../sfprompt/test/datasets/fixtures.js";
import { asRoot, otherUid, sfpromptAsOtherUser } from "./other-user.js";
import { assertUserError, ROOT, sfprompt, sfpromptWithin } from "./run-helpers.js";

const uid = otherUid;

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
      sfpromptAsOtherUser({}, "demo-model", "--cache", cache),
      new RegExp(
        `cache folder ${cache}/models: cannot be created: ${cache} cannot be written by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make it writable by uid ${uid}: chown -R ${uid}:\\d+ ${cache} \\(or chmod -R a\\+rwX ${cache}\\); ${hint}`,
      ),
    );
  });
});

// Fashion-MNIST's files where the user may not read them: a folder of another owner's at 0700 read as
// "not in <folder>" (existsSync's false for EACCES), and a 0600 file ended in an internal error with a
// stack. As root, root's folder and files are read as nobody; as another user, their modes are 000.
describe("sfprompt demo-model pre-training from Fashion-MNIST files the user cannot read", () => {
  let dir = "";
  const closed: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-demo-fashion-"));
    chmodSync(dir, 0o755);
  });
  after(() => {
    closed.forEach((d) => chmodSync(d, 0o755));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A folder with the train split (not IDX: the check comes first) and a cache folder the user can write. */
  function fashionAndCache(name: string): { fashion: string; cache: string } {
    const fashion = join(dir, name);
    mkdirSync(fashion);
    for (const f of ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
      writeFileSync(join(fashion, f), "root's");
    const cache = join(dir, `${name}-cache`);
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    return { fashion, cache };
  }

  it("names a folder the user cannot search, not a missing split, and the chmod", () => {
    const { fashion, cache } = fashionAndCache("closed");
    closed.push(fashion);
    chmodSync(fashion, asRoot ? 0o700 : 0o000);
    const r = sfpromptAsOtherUser({ SFPROMPT_FASHION_MNIST_DIR: fashion }, "demo-model", "--cache", cache);
    assertUserError(
      r,
      new RegExp(
        `${fashion}/train-images-idx3-ubyte\\.gz cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and its IDX files readable by uid ${uid} on this machine: chmod -R a\\+rX ${fashion} \\(or chown -R ${uid}:\\d+ ${fashion}\\); see docs/datasets.md`,
      ),
    );
    assert.doesNotMatch(r.stderr, /is not in/);
  });

  it("names every file the user cannot read, in one message, as a user error, not an internal error", () => {
    const { fashion, cache } = fashionAndCache("files");
    // the test split too: its images closed, its labels open (not named)
    for (const f of ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
      writeFileSync(join(fashion, f), "root's");
    const unreadable = [
      "train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz",
      "t10k-images-idx3-ubyte.gz",
    ];
    for (const f of unreadable) chmodSync(join(fashion, f), asRoot ? 0o600 : 0o000);
    const paths = unreadable.map((f) => join(fashion, f));
    const r = sfpromptAsOtherUser({ SFPROMPT_FASHION_MNIST_DIR: fashion }, "demo-model", "--cache", cache);
    const quoted = paths.map((p) => p.replace(/[.+]/g, "\\$&"));
    assertUserError(
      r,
      new RegExp(
        `${quoted.join(", ")} cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the files readable by uid ${uid} on this machine: chmod a\\+r ${quoted.join(" ")} \\(or chown ${uid}:\\d+ ${quoted.join(" ")}\\), and their folders searchable \\(a\\+x\\); see docs/datasets\\.md`,
      ),
    );
    assert.doesNotMatch(r.stderr, /t10k-labels/);
  });
});

// A demo model in the cache whose model.onnx was cut short since an earlier run built it (a disk that
// filled up, a copy interrupted): `sfprompt run` said only "cannot load ONNX model <file>: the bytes are
// not an ONNX ModelProto", not that the file is the cache's nor what to do; it now names the field and
// the folder to delete so that the next run builds the model again.
describe("sfprompt run with a cached demo model cut short", () => {
  let dir = "";
  const before_ = process.env.SFPROMPT_CACHE;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-demo-cut-"));
    process.env.SFPROMPT_CACHE = join(dir, "cache");
  });
  after(() => {
    if (before_ === undefined) delete process.env.SFPROMPT_CACHE;
    else process.env.SFPROMPT_CACHE = before_;
    rmSync(dir, { recursive: true, force: true });
  });

  it("names spec.model.source, the file and the folder to delete (exit 1)", () => {
    const model = demoModelDir(DEMO_RECIPE, join(dir, "cache"));
    mkdirSync(model, { recursive: true });
    const file = join(model, MODEL_FILE);
    writeModel(file, buildDemoVit(DEMO_RECIPE.architecture, 1).model);
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    const card = {
      name: DEMO_RECIPE.name,
      recipe: DEMO_RECIPE,
      data: { dataset: "fashion-mnist", trainSamples: 30000, testSamples: 2000 },
      epochs: 2,
      testAccuracy: 0.85,
      finalTrainLoss: 0.4,
      seconds: 26,
    };
    writeFileSync(join(model, CARD_FILE), JSON.stringify(card));
    const job = join(ROOT, "examples", "demo-job.yaml");
    const r = sfprompt("run", job, "--out", join(dir, "out"), "--rounds", "1");
    const escaped = model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assertUserError(
      r,
      new RegExp(
        `${job.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: spec\\.model\\.source: builtin: demo: cannot load ONNX model ${escaped}/model\\.onnx: .*; the cached model is damaged: remove its folder \\(rm -rf ${escaped}\\) so that the next run builds it again`,
      ),
    );
  });
});

// A cached demo card that is JSON but not a card (no data, accuracy, …): the first run that reused the
// model ended in an internal error with a stack ("Cannot read properties of undefined (reading
// 'trainSamples')"). It is now the cache's error, naming the card and the folder to delete.
describe("sfprompt demo-model with a cached card that is not a card", () => {
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "cli-demo-card-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names the card, the field missing and the folder to delete (exit 1)", () => {
    const model = demoModelDir(DEMO_RECIPE, dir);
    mkdirSync(model, { recursive: true });
    writeModel(join(model, MODEL_FILE), buildDemoVit(DEMO_RECIPE.architecture, 1).model);
    writeFileSync(join(model, CARD_FILE), "{}\n");
    const r = sfpromptWithin(60_000, "demo-model", "--cache", dir);
    assertUserError(
      r,
      new RegExp(
        `demo model cache ${model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/card\\.json: is not a demo model card \\(data: .+\\); remove the folder \\(rm -rf ${model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\) so that the model is built again`,
      ),
    );
  });
});

// A demo model folder left without its card (a copy interrupted between its two files, a card removed
// by hand): the pre-training's rename of its new folder onto one that held files failed with
// ENOTEMPTY at every run. Since ADR 0017 amendment 32's install (replaceFolder), the new folder
// replaces it (ADR 0016 amendment 62). A Fashion-MNIST of 128 images keeps the pre-training short.
describe("sfprompt demo-model with a cached model folder without its card", () => {
  let dir = "";
  const before_ = process.env.SFPROMPT_FASHION_MNIST_DIR;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-demo-nocard-"));
    const fashion = join(dir, "fashion");
    mkdirSync(fashion);
    const pixels = (n: number): number[] => Array.from({ length: n * 28 * 28 }, (_, i) => i % 251);
    const labels = (n: number): number[] => Array.from({ length: n }, (_, i) => i % 10);
    for (const [prefix, n] of [
      ["train", 128],
      ["t10k", 32],
    ] as const) {
      writeFileSync(join(fashion, `${prefix}-images-idx3-ubyte`), encodeIdxBytes([n, 28, 28], pixels(n)));
      writeFileSync(join(fashion, `${prefix}-labels-idx1-ubyte`), encodeIdxBytes([n], labels(n)));
    }
    process.env.SFPROMPT_FASHION_MNIST_DIR = fashion;
  });
  after(() => {
    if (before_ === undefined) delete process.env.SFPROMPT_FASHION_MNIST_DIR;
    else process.env.SFPROMPT_FASHION_MNIST_DIR = before_;
    rmSync(dir, { recursive: true, force: true });
  });

  it("pre-trains it again into that folder: a model that reads beside its new card, nothing left beside it", () => {
    const cache = join(dir, "cache");
    const model = demoModelDir(DEMO_RECIPE, cache);
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, MODEL_FILE), "the model of a copy interrupted before its card\n");
    const r = sfpromptWithin(600_000, "demo-model", "--cache", cache);
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as { path: string; built: boolean };
    assert.deepEqual([printed.path, printed.built], [join(model, MODEL_FILE), true]);
    const card = JSON.parse(readFileSync(join(model, CARD_FILE), "utf8")) as {
      data: { trainSamples: number };
    };
    assert.equal(card.data.trainSamples, 128);
    assert.ok(readModelOutline(join(model, MODEL_FILE)).initializers.size > 0);
    assert.deepEqual(
      readdirSync(dirname(model)).filter((f) => f.startsWith(basename(model))),
      [basename(model)],
    );
  });
});

// A cached demo model's file this user cannot read (a cache filled by root, its card at 0600): the
// card was reported as "is not valid JSON", with the rm -rf of a folder that is not damaged. It is now
// said as other unreadable files are: the file, the user and the chmod, or the rm (ADR 0017 amendment
// 35). As root, root's copy is read as nobody; as another user, the card's mode is 000.
describe("sfprompt demo-model with a cached card the user cannot read", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-demo-card-closed-"));
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names the card, the user and the chmod of the folder, not JSON (exit 1)", () => {
    const model = demoModelDir(DEMO_RECIPE, dir);
    mkdirSync(model, { recursive: true, mode: 0o755 });
    for (const d of [join(dir, "models"), model]) chmodSync(d, 0o755);
    writeModel(join(model, MODEL_FILE), buildDemoVit(DEMO_RECIPE.architecture, 1).model);
    chmodSync(join(model, MODEL_FILE), 0o644);
    const card = join(model, CARD_FILE);
    writeFileSync(card, JSON.stringify({ name: DEMO_RECIPE.name }));
    chmodSync(card, asRoot ? 0o600 : 0o000);
    const r = sfpromptAsOtherUser({}, "demo-model", "--cache", dir);
    const m = model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assertUserError(
      r,
      new RegExp(
        `demo model cache ${m}: ${m}/card\\.json cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and everything in it readable by uid ${uid} on this machine: chmod -R a\\+rX ${m} \\(or chown -R ${uid}:\\d+ ${m}\\); or remove the folder \\(rm -rf ${m}\\) so that the model is built again`,
      ),
    );
    assert.doesNotMatch(r.stderr, /not valid JSON/);
    chmodSync(card, 0o644);
  });
});
