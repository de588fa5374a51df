// builtin: demo not cached yet is pre-trained by sfprompt run on Fashion-MNIST, after it said
// "starting": with no Fashion-MNIST on the machine, sfprompt validate said the model "would be
// built" and the run stopped after its start. validate and run's checks before the start now look
// for the set with the loader's own check (@sfprompt/core fashionMnistProblem) and say, under
// spec.model.source, what to install or set (ADR 0016 amendment 53); a file there but damaged (cut
// short, not IDX, a count that disagrees) is found from its IDX header and size by the same check
// (amendment 54). Real CLI processes, real folders.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CARD_FILE, demoModelDir, MODEL_FILE } from "@sfprompt/core";
import {
  assertUserError,
  sfpromptWithEnv,
  writeFailsAfterStartJob,
  writeIdxBytes,
  writeTinyJob,
} from "./run-helpers.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("sfprompt validate and run with builtin: demo not cached and no Fashion-MNIST to pre-train it on", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-demo-data-"));
    job = writeFailsAfterStartJob(dir, writeTinyJob(dir), "demo");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** An empty cache and a Fashion-MNIST folder holding the files `fill` writes. */
  function setUp(name: string, fill: (fashion: string) => void): { cache: string; fashion: string } {
    const cache = join(dir, `${name}-cache`);
    const fashion = join(dir, `${name}-fashion`);
    mkdirSync(cache);
    mkdirSync(fashion);
    fill(fashion);
    return { cache, fashion };
  }

  const cases = [
    { name: "an empty SFPROMPT_FASHION_MNIST_DIR", split: "train", fill: (): void => {} },
    {
      name: "a folder with the train split only (the pre-training evaluates on the test split)",
      split: "test",
      fill: (fashion: string): void => {
        writeIdxBytes(join(fashion, "train-images-idx3-ubyte"), [1, 28, 28], new Uint8Array(28 * 28));
        writeIdxBytes(join(fashion, "train-labels-idx1-ubyte"), [1], new Uint8Array(1));
      },
    },
  ];

  for (const c of cases) {
    it(`names the missing ${c.split} split of ${c.name} and the variable: validate and run exit 1 before the start`, () => {
      const { cache, fashion } = setUp(c.split, c.fill);
      const env = { SFPROMPT_CACHE: cache, SFPROMPT_FASHION_MNIST_DIR: fashion };
      const message =
        `: spec\\.model\\.source: builtin: demo is not cached, and sfprompt run pre-trains it on Fashion-MNIST first: ` +
        `${escape(fashion)}/${c.split === "train" ? "train" : "t10k"}-images-idx3-ubyte\\.gz: ` +
        `Fashion-MNIST's ${c.split} split is not in ${escape(fashion)} \\(SFPROMPT_FASHION_MNIST_DIR\\): ` +
        `set SFPROMPT_FASHION_MNIST_DIR to a folder with its IDX files .*, or unset it to read Debian's dataset-fashion-mnist`;
      const out = join(dir, `out-${c.split}`);
      const v = sfpromptWithEnv(env, "validate", job, "--out", out);
      assertUserError(v, new RegExp(`^sfprompt validate: ${escape(job)}${message}`, "m"));
      const r = sfpromptWithEnv(env, "run", job, "--out", out);
      assertUserError(r, new RegExp(`^sfprompt run: ${escape(job)}${message}`, "m"));
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
  }

  /** Both splits whole, 2 images each, as plain IDX files; then `damage` changes one file. */
  function wholeSet(fashion: string): void {
    for (const prefix of ["train", "t10k"]) {
      writeIdxBytes(join(fashion, `${prefix}-images-idx3-ubyte`), [2, 28, 28], new Uint8Array(2 * 28 * 28));
      writeIdxBytes(join(fashion, `${prefix}-labels-idx1-ubyte`), [2], Uint8Array.of(0, 1));
    }
  }

  // each a file that is there but that the pre-training's read would refuse, minutes into the run
  const damaged = [
    {
      name: "train images gzipped and cut short (an interrupted copy)",
      file: "train-images-idx3-ubyte.gz",
      split: "train",
      damage: (fashion: string): void => {
        const plain = join(fashion, "train-images-idx3-ubyte");
        // pixels that do not compress away, so that half the gzip stops inside the images
        writeIdxBytes(plain, [2, 28, 28], randomBytes(2 * 28 * 28));
        const gz = gzipSync(readFileSync(plain));
        rmSync(plain);
        writeFileSync(`${plain}.gz`, gz.subarray(0, gz.length >> 1));
        // fashionMnistFiles reads .gz when the images are .gz: the labels too
        const labels = join(fashion, "train-labels-idx1-ubyte");
        writeFileSync(`${labels}.gz`, gzipSync(readFileSync(labels)));
        rmSync(labels);
      },
      what: `decompresses to \\d+ bytes before its gzip stream ends, but its IDX header declares \\[2, 28, 28\\] uint8, ${16 + 2 * 28 * 28} bytes with the header: the file is cut short;`,
    },
    {
      name: "test images that are no IDX file (a web page saved in its place)",
      file: "t10k-images-idx3-ubyte",
      split: "test",
      damage: (fashion: string): void =>
        writeFileSync(join(fashion, "t10k-images-idx3-ubyte"), "<html>404 Not Found</html>"),
      what: "bad IDX magic number 3c 68 74 6d .*; is this an IDX file\\?",
    },
    {
      name: "train labels that count more samples than the images",
      file: "train-labels-idx1-ubyte",
      split: "train",
      damage: (fashion: string): void =>
        writeIdxBytes(join(fashion, "train-labels-idx1-ubyte"), [3], Uint8Array.of(0, 1, 2)),
      what: `has 3 labels but \\S+/train-images-idx3-ubyte has 2 images;`,
    },
  ];

  for (const c of damaged) {
    it(`names the file, what is wrong and what to copy again for ${c.name}: validate and run exit 1 before the start`, () => {
      const name = `damaged-${c.file}`;
      const { cache, fashion } = setUp(name, (f) => {
        wholeSet(f);
        c.damage(f);
      });
      const env = { SFPROMPT_CACHE: cache, SFPROMPT_FASHION_MNIST_DIR: fashion };
      const message =
        `: spec\\.model\\.source: builtin: demo is not cached, and sfprompt run pre-trains it on Fashion-MNIST first: ` +
        `${escape(join(fashion, c.file))}: ${c.what} Fashion-MNIST's ${c.split} split in ${escape(fashion)} ` +
        `\\(SFPROMPT_FASHION_MNIST_DIR\\) is damaged: copy its IDX files .* there again .*or unset SFPROMPT_FASHION_MNIST_DIR ` +
        // the whole sentence: it ended "to read that package's", its last word lost
        `to read that package's files$`;
      const out = join(dir, `out-${name}`);
      const v = sfpromptWithEnv(env, "validate", job, "--out", out);
      assertUserError(v, new RegExp(`^sfprompt validate: ${escape(job)}${message}`, "m"));
      const r = sfpromptWithEnv(env, "run", job, "--out", out);
      assertUserError(r, new RegExp(`^sfprompt run: ${escape(job)}${message}`, "m"));
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
  }

  it("names a file the check cannot open for another reason than permissions (ELOOP), not an internal error", () => {
    const { cache, fashion } = setUp("eloop", (f) => {
      wholeSet(f);
      const labels = join(f, "train-labels-idx1-ubyte");
      rmSync(labels);
      symlinkSync(labels, labels); // a link to itself: open() answers ELOOP
    });
    const env = { SFPROMPT_CACHE: cache, SFPROMPT_FASHION_MNIST_DIR: fashion };
    const labels = escape(join(fashion, "train-labels-idx1-ubyte"));
    const message =
      `: spec\\.model\\.source: builtin: demo is not cached, and sfprompt run pre-trains it on Fashion-MNIST first: ` +
      `${labels} cannot be opened \\(ELOOP: .*${labels}'\\), and the pre-training reads it: check that file`;
    const out = join(dir, "out-eloop");
    assertUserError(
      sfpromptWithEnv(env, "validate", job, "--out", out),
      new RegExp(`^sfprompt validate: ${escape(job)}${message}`, "m"),
    );
    const r = sfpromptWithEnv(env, "run", job, "--out", out);
    assertUserError(r, new RegExp(`^sfprompt run: ${escape(job)}${message}`, "m"));
    assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
    assert.equal(existsSync(out), false, "no run folder");
  });

  it("asks for no Fashion-MNIST when the demo model is cached", () => {
    // the cache holds a model (writeTinyJob's ViT stands in for the demo's) and its card
    const { cache, fashion } = setUp("cached", () => {});
    const model = demoModelDir(undefined, cache);
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, MODEL_FILE), readFileSync(join(dir, "vit.onnx")));
    writeFileSync(join(model, CARD_FILE), "{}");
    const v = sfpromptWithEnv(
      { SFPROMPT_CACHE: cache, SFPROMPT_FASHION_MNIST_DIR: fashion },
      "validate",
      job,
    );
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /builtin demo, cached: /);
  });
});
