// IDX parsing: the real Fashion-MNIST files of Debian's dataset-fashion-mnist, every element type,
// and the errors malformed files must give.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  FASHION_MNIST_CLASSES,
  checkIdxFileLength,
  classCounts,
  fashionMnistFiles,
  loadFashionMnist,
  loadIdxImages,
  parseIdx,
  readIdxFile,
  sampleAt,
} from "@sfprompt/core";
import { encodeIdx, encodeIdxBytes, withTempDir } from "./fixtures.js";

describe("Fashion-MNIST from dataset-fashion-mnist", () => {
  it("has train headers [60000, 28, 28] and 6000 labels of every class", async () => {
    const files = fashionMnistFiles("train");
    const header = checkIdxFileLength(files.images);
    assert.deepEqual(header.dims, [60000, 28, 28]);
    assert.equal(header.dtype, "uint8");
    const labels = await readIdxFile(files.labels);
    assert.deepEqual(labels.dims, [60000]);
    const counts = new Array<number>(10).fill(0);
    for (const y of labels.data) counts[y]! += 1;
    assert.deepEqual(counts, new Array(10).fill(6000));
  });

  it("loads the whole test split: 10000 images of 1×28×28 in [0, 1], 1000 per class", async () => {
    const ds = await loadFashionMnist({ split: "test" });
    assert.deepEqual(ds.sampleShape, [1, 28, 28]);
    assert.deepEqual(Array.from(classCounts(ds)), new Array(10).fill(1000));
    assert.deepEqual(ds.classNames, FASHION_MNIST_CLASSES);
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
  });

  it("keeps the first perClass samples of each class, pixel for pixel as in the file", async () => {
    const files = fashionMnistFiles("train");
    const raw = await readIdxFile(files.images);
    const labels = await readIdxFile(files.labels);
    const ds = await loadFashionMnist({ split: "train", perClass: 3 });
    assert.deepEqual(Array.from(classCounts(ds)), new Array(10).fill(3));
    // The expected indices, computed here from the label file.
    const taken = new Array<number>(10).fill(0);
    const expected: number[] = [];
    labels.data.forEach((y, i) => {
      if (taken[y]! < 3) {
        taken[y]! += 1;
        expected.push(i);
      }
    });
    expected.forEach((i, k) => {
      assert.equal(ds.labels[k], labels.data[i]);
      const pixels = Array.from(raw.data.subarray(i * 784, (i + 1) * 784), (b) => Math.fround(b / 255));
      assert.deepEqual(Array.from(sampleAt(ds, k)), pixels);
    });
  });

  it("applies limit after perClass and resizes to 16×16", async () => {
    const ds = await loadFashionMnist({
      split: "test",
      perClass: 5,
      limit: 12,
      resize: { height: 16, width: 16 },
    });
    assert.equal(ds.labels.length, 12);
    assert.deepEqual(ds.sampleShape, [1, 16, 16]);
    assert.equal(ds.x.length, 12 * 256);
  });

  it("names the package to install when the folder has no files", async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(loadFashionMnist({ dir }), (e: Error) => {
        assert.equal(e.name, "DatasetNotFoundError");
        assert.match(e.message, /dataset-fashion-mnist/);
        return true;
      });
    });
  });
});

describe("parseIdx", () => {
  const typed = [
    { name: "int8", code: 0x09, size: 1, values: [-128, -1, 0, 127], set: "setInt8" },
    { name: "int16", code: 0x0b, size: 2, values: [-30000, -1, 2, 30000], set: "setInt16" },
    { name: "int32", code: 0x0c, size: 4, values: [-2e9, -1, 5, 2e9], set: "setInt32" },
    { name: "float32", code: 0x0d, size: 4, values: [-1.5, 0, 0.25, 1e10], set: "setFloat32" },
    { name: "float64", code: 0x0e, size: 8, values: [-1e-300, 0, Math.PI, 1e300], set: "setFloat64" },
  ] as const;
  for (const c of typed) {
    it(`reads big-endian ${c.name} elements`, () => {
      const bytes = encodeIdx(
        c.code,
        [2, 2],
        (view, offset) => c.values.forEach((v, i) => view[c.set](offset + i * c.size, v, false)),
        c.size,
      );
      const arr = parseIdx(bytes, "mem");
      assert.equal(arr.dtype, c.name);
      assert.deepEqual(arr.dims, [2, 2]);
      assert.deepEqual(Array.from(arr.data), c.values);
    });
  }

  const malformed = [
    {
      name: "a bad magic number",
      bytes: Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 1, 7),
      match: /bad IDX magic number 01 00 08 01/,
    },
    {
      name: "an unknown element type",
      bytes: Uint8Array.of(0, 0, 0x0a, 1, 0, 0, 0, 1, 7),
      match: /bad IDX magic/,
    },
    {
      name: "a file shorter than its header",
      bytes: Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1),
      match: /declares 3 dimensions/,
    },
    {
      name: "data shorter than the dims",
      bytes: encodeIdxBytes([2, 3], [1, 2, 3, 4, 5, 6]).subarray(0, 14),
      match: /truncated/,
    },
    { name: "a two-byte file", bytes: Uint8Array.of(0, 0), match: /too short/ },
  ];
  for (const c of malformed) {
    it(`names the file and the problem for ${c.name}`, () => {
      assert.throws(
        () => parseIdx(c.bytes, "/data/x-idx3-ubyte"),
        (e: Error) => {
          assert.equal(e.name, "DatasetFormatError");
          assert.match(e.message, /^\/data\/x-idx3-ubyte: /);
          assert.match(e.message, c.match);
          return true;
        },
      );
    });
  }
});

describe("loadIdxImages", () => {
  const images = encodeIdxBytes([3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 9, 9, 9, 9]);
  const labels = encodeIdxBytes([3], [1, 0, 1]);

  it("reads a gzipped pair and a plain pair alike", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "img.gz"), gzipSync(images));
      await writeFile(join(dir, "lab"), labels);
      const ds = await loadIdxImages({
        images: join(dir, "img.gz"),
        labels: join(dir, "lab"),
        classNames: ["a", "b"],
      });
      assert.deepEqual(ds.sampleShape, [1, 2, 2]);
      assert.deepEqual(Array.from(ds.labels), [1, 0, 1]);
      assert.deepEqual(Array.from(sampleAt(ds, 0)), [0, 1, 0.2, 0.4].map(Math.fround));
    });
  });

  const bad = [
    {
      name: "labels and images swapped",
      files: [labels, images],
      match: /expected uint8 images \[N, H, W\]/,
    },
    {
      name: "fewer labels than images",
      files: [images, encodeIdxBytes([2], [0, 1])],
      match: /has 2 labels but .* has 3 images/,
    },
    {
      name: "a label beyond the class list",
      files: [images, encodeIdxBytes([3], [0, 5, 1])],
      match: /label 5 of sample 1/,
    },
    {
      // it became images of shape [1, 0, 2]: createDataset refused "sampleShape", naming no file
      name: "images of zero rows",
      files: [encodeIdxBytes([3, 0, 2], []), labels],
      match: /images\.idx: IDX images are \[3, 0, 2\]: an image needs rows and columns; the file is corrupt/,
    },
    {
      name: "a corrupt gzip stream",
      files: [Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3), labels],
      match: /does not decompress/,
    },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}, naming the file`, async () => {
      await withTempDir(async (dir) => {
        const [imgPath, labPath] = [join(dir, "images.idx"), join(dir, "labels.idx")];
        await writeFile(imgPath, c.files[0]!);
        await writeFile(labPath, c.files[1]!);
        await assert.rejects(
          loadIdxImages({ images: imgPath, labels: labPath, classNames: ["a", "b"] }),
          (e: Error) => {
            assert.match(e.message, c.match);
            assert.match(e.message, new RegExp(dir));
            return true;
          },
        );
      });
    });
  }

  it("stops decompressing a gzipped file at the size its header declares", async () => {
    await withTempDir(async (dir) => {
      // 64 MiB of zeros after a valid [3, 2, 2] file, 64 KiB packed: a gzip bomb in small; it was
      // decompressed whole before the length check said "the data is 67108892 bytes"
      const bomb = join(dir, "bomb.gz");
      await writeFile(bomb, gzipSync(Buffer.concat([images, Buffer.alloc(64 << 20)])));
      await writeFile(join(dir, "labels.idx"), labels);
      const load = loadIdxImages({ images: bomb, labels: join(dir, "labels.idx"), classNames: ["a", "b"] });
      await assert.rejects(load, (e: Error) => {
        assert.equal(e.name, "DatasetFormatError");
        assert.equal(
          e.message,
          `${bomb}: decompresses to more than the ${images.length} bytes its IDX header declares ([3, 2, 2] uint8, header included); ` +
            "decompression was stopped there. The file is corrupt or not this format: check that it is the IDX file it is named for",
        );
        return true;
      });
      // exactly the declared size still reads
      await writeFile(join(dir, "exact.gz"), gzipSync(images));
      assert.deepEqual((await readIdxFile(join(dir, "exact.gz"))).dims, [3, 2, 2]);
    });
  });

  it("reads the header of plain and gzipped files without their elements (checkIdxFileLength)", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "plain"), images);
      await writeFile(join(dir, "packed.gz"), gzipSync(images));
      await writeFile(join(dir, "short"), images.subarray(0, 9));
      for (const name of ["plain", "packed.gz"]) {
        assert.deepEqual(checkIdxFileLength(join(dir, name)), { dtype: "uint8", dims: [3, 2, 2], bytes: 28 });
      }
      assert.throws(() => checkIdxFileLength(join(dir, "short")), /short: IDX header declares 3 dimensions/);
    });
  });

  it("says the file is missing", async () => {
    await assert.rejects(readIdxFile("/nonexistent/train-images-idx3-ubyte.gz"), {
      name: "DatasetNotFoundError",
    });
  });
});
