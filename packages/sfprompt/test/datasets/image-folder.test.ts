// User images in root/<class>/ folders: PNG (encoded here by pngjs), PGM and PPM, colour modes,
// class lists, resizing and the errors a user can meet.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PNG } from "pngjs";
import {
  DatasetFormatError,
  decodeImage,
  decodeNetpbm,
  encodeNetpbm,
  loadImageFolder,
  sampleAt,
} from "@sfprompt/core";
import { withTempDir } from "./fixtures.js";

/** A PNG whose pixel (x, y) has RGB = rgb(x, y), opaque. */
function png(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): Buffer {
  const img = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      img.data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  return PNG.sync.write(img);
}

async function put(root: string, rel: string, bytes: Uint8Array): Promise<void> {
  const path = join(root, rel);
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, bytes);
}

/** CRC-32 (IEEE), as PNG chunks carry it. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const red = (): [number, number, number] => [255, 0, 0];
const ramp = (x: number, y: number): [number, number, number] => [x * 50, y * 50, 200];

describe("loadImageFolder", () => {
  it("reads PNG, PGM and PPM files, sorted by class folder then file name", async () => {
    await withTempDir(async (root) => {
      await put(root, "cat/b.png", png(3, 2, red));
      await put(root, "cat/a.pgm", encodeNetpbm(3, 2, 1, Uint8Array.of(0, 51, 102, 153, 204, 255)));
      await put(root, "dog/x.ppm", encodeNetpbm(3, 2, 3, new Uint8Array(18).fill(255)));
      await put(root, "dog/notes.txt", new TextEncoder().encode("ignored"));
      const ds = await loadImageFolder(root, { mode: "grayscale" });
      assert.deepEqual(ds.classNames, ["cat", "dog"]);
      assert.deepEqual(Array.from(ds.labels), [0, 0, 1]);
      assert.deepEqual(ds.sampleShape, [1, 2, 3]);
      assert.deepEqual(Array.from(sampleAt(ds, 0)), [0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround));
      // Pure red through BT.601 luma.
      assert.ok(Array.from(sampleAt(ds, 1)).every((v) => Math.abs(v - 0.299) < 1e-6));
      assert.ok(Array.from(sampleAt(ds, 2)).every((v) => Math.abs(v - 1) < 1e-6));
    });
  });

  it("keeps RGB planes in [C, H, W] order and replicates gray images to three channels", async () => {
    await withTempDir(async (root) => {
      await put(root, "a/1.png", png(3, 2, ramp));
      await put(root, "a/2.pgm", encodeNetpbm(3, 2, 1, new Uint8Array(6).fill(51)));
      const ds = await loadImageFolder(root, { mode: "rgb" });
      assert.deepEqual(ds.sampleShape, [3, 2, 3]);
      const expected: number[] = [];
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 3; x++) expected.push(Math.fround(ramp(x, y)[c]! / 255));
      }
      assert.deepEqual(Array.from(sampleAt(ds, 0)), expected);
      assert.deepEqual(Array.from(sampleAt(ds, 1)), new Array(18).fill(Math.fround(0.2)));
    });
  });

  it("maps folders through the job's class list, by name or by index, with classes a client lacks", async () => {
    await withTempDir(async (root) => {
      await put(root, "sneaker/1.png", png(2, 2, red));
      await put(root, "0/1.png", png(2, 2, red));
      const ds = await loadImageFolder(root, { classNames: ["shirt", "bag", "sneaker"] });
      assert.deepEqual(ds.classNames, ["shirt", "bag", "sneaker"]);
      assert.deepEqual(Array.from(ds.labels), [0, 2]);
    });
  });

  it("resizes images of different sizes to one size", async () => {
    await withTempDir(async (root) => {
      await put(root, "a/big.png", png(8, 8, red));
      await put(root, "a/small.png", png(2, 2, red));
      const ds = await loadImageFolder(root, { resize: { height: 4, width: 4 } });
      assert.deepEqual(ds.sampleShape, [1, 4, 4]);
      assert.ok(ds.x.every((v) => Math.abs(v - 0.299) < 1e-5));
    });
  });

  it("reads images in sub-folders and behind symbolic links, and skips hidden files", async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const elsewhere = join(dir, "elsewhere");
      // each image is one gray level, so a sample shows which file it came from
      const gray = (v: number): Uint8Array => encodeNetpbm(1, 1, 1, Uint8Array.of(v));
      await put(root, "cat/a.pgm", gray(10));
      await put(root, "cat/2024/b.pgm", gray(20));
      await put(elsewhere, "c.pgm", gray(30));
      await symlink(join(elsewhere, "c.pgm"), join(root, "cat/c.pgm"));
      await put(elsewhere, "dogs/d.pgm", gray(40));
      await symlink(join(elsewhere, "dogs"), join(root, "dog"));
      // what a copy from macOS leaves next to each image: not a PGM, and hidden
      await put(root, "cat/._a.pgm", new TextEncoder().encode("Mac OS X resource fork"));
      const ds = await loadImageFolder(root);
      assert.deepEqual(ds.classNames, ["cat", "dog"]);
      const read = Array.from({ length: ds.labels.length }, (_, i) => [
        ds.labels[i],
        Math.round(sampleAt(ds, i)[0]! * 255),
      ]);
      // sorted by path below the class folder: 2024/b, a, c
      assert.deepEqual(read, [
        [0, 20],
        [0, 10],
        [0, 30],
        [1, 40],
      ]);
    });
  });

  it("names a symbolic link to nothing and a link that loops back to its folder", async () => {
    await withTempDir(async (root) => {
      await put(root, "cat/a.pgm", encodeNetpbm(1, 1, 1, Uint8Array.of(1)));
      await symlink(join(root, "gone.pgm"), join(root, "cat/b.pgm"));
      await assert.rejects(
        loadImageFolder(root),
        /cat\/b\.pgm: is a symbolic link whose target cannot be read; fix or remove it/,
      );
      await rm(join(root, "cat/b.pgm"));
      await symlink(join(root, "cat"), join(root, "cat/again"));
      await assert.rejects(loadImageFolder(root), /cat\/again: links back to a folder that contains it/);
    });
  });

  it("applies perClass in file order", async () => {
    await withTempDir(async (root) => {
      for (const name of ["c.png", "a.png", "b.png"]) await put(root, `k/${name}`, png(1, 1, red));
      await put(root, "m/z.png", png(1, 1, red));
      const ds = await loadImageFolder(root, { perClass: 2 });
      assert.deepEqual(Array.from(ds.labels), [0, 0, 1]);
    });
  });

  const errors: Array<{ name: string; files: Record<string, Uint8Array>; options?: object; match: RegExp }> =
    [
      {
        name: "images of different sizes without resize",
        files: { "a/1.png": png(2, 2, red), "a/2.png": png(3, 2, red) },
        match: /a\/2\.png: is 3×2 but earlier images are 2×2; pass resize/,
      },
      {
        name: "a folder that is not in the class list",
        files: { "horse/1.png": png(1, 1, red) },
        options: { classNames: ["cat", "dog"] },
        match: /horse: folder is not one of the classes \[cat, dog\]/,
      },
      {
        name: "a corrupt PNG",
        files: { "a/bad.png": Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 1, 2, 3) },
        match: /a\/bad\.png: is not a readable PNG/,
      },
      {
        // 20 bytes = the 11-byte header "P5\n4 4\n255\n" + 9 of the 16 pixels.
        name: "a truncated PGM",
        files: { "a/t.pgm": encodeNetpbm(4, 4, 1, new Uint8Array(16)).subarray(0, 20) },
        match: /a\/t\.pgm: has 9 data bytes, expected 16/,
      },
      {
        name: "no images at all",
        files: { "a/readme.md": new Uint8Array(1) },
        match:
          /has no images \(\.png, \.pgm, \.ppm, \.pnm\) in any class folder; the class folders hold only files it does not read \(1 \.md file\): put the images in as PNG, PGM or PPM files$/,
      },
      {
        // A folder of JPEGs (bytes as a camera writes them start FF D8 FF) must say what it found.
        name: "only JPEG files, saying how many and how to convert them",
        files: {
          "cat/1.jpg": Uint8Array.of(0xff, 0xd8, 0xff),
          "cat/2.JPG": Uint8Array.of(0xff, 0xd8, 0xff),
          "dog/x/3.jpg": Uint8Array.of(0xff, 0xd8, 0xff),
          "dog/notes.txt": new Uint8Array(1),
        },
        match:
          /has no images \(\.png, \.pgm, \.ppm, \.pnm\) in any class folder; the class folders hold only files it does not read \(3 \.jpg files, 1 \.txt file\): convert the \.jpg images to PNG, e\.g\. with ImageMagick in this folder: mogrify -format png \*\/\*\.jpg/,
      },
    ];
  for (const c of errors) {
    it(`rejects ${c.name}, naming the path`, async () => {
      await withTempDir(async (root) => {
        for (const [rel, bytes] of Object.entries(c.files)) await put(root, rel, bytes);
        await assert.rejects(loadImageFolder(root, c.options), c.match);
      });
    });
  }
});

describe("decodeNetpbm", () => {
  const cases = [
    {
      name: "plain P2 with a comment",
      text: "P2\n# made by hand\n2 1\n10\n0 10\n",
      channels: 1,
      data: [0, 1],
    },
    { name: "plain P3", text: "P3 1 1 255 255 0 51", channels: 3, data: [1, 0, 0.2] },
  ];
  for (const c of cases) {
    it(`decodes ${c.name}`, () => {
      const img = decodeNetpbm(new TextEncoder().encode(c.text), "x.pnm");
      assert.equal(img.channels, c.channels);
      assert.deepEqual(Array.from(img.data), c.data.map(Math.fround));
    });
  }

  it("decodes 16-bit P5 big-endian samples", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("P5 2 1 65535\n"), 0xff, 0xff, 0x80, 0x00]);
    assert.deepEqual(Array.from(decodeNetpbm(bytes, "x.pgm").data), [1, Math.fround(32768 / 65535)]);
  });

  // a header is read before the pixels: one promising more than the file holds is refused before a
  // buffer of its size is made (P2 100000×100000 was a RangeError, "Invalid typed array length")
  const refused = [
    {
      name: "a P2 header far bigger than its file",
      text: "P2 100000 100000 255 0 1 2",
      match: /above the 178956970 an image may have/,
    },
    {
      name: "a P2 header bigger than its file",
      text: "P2 3000 3000 255 0 1 2",
      match: /header says 9000000 samples but 6 bytes follow it; truncated\?/,
    },
    {
      name: "a P3 header bigger than its file",
      text: "P3 2 2 255 0 1 2 3",
      match: /header says 12 samples but 8 bytes follow it/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, naming the file`, () => {
      assert.throws(
        () => decodeNetpbm(new TextEncoder().encode(c.text), "x.pgm"),
        (e: unknown) => {
          assert.ok(e instanceof DatasetFormatError, String(e));
          assert.match(e.message, /^x\.pgm: /);
          assert.match(e.message, c.match);
          return true;
        },
      );
    });
  }

  it("refuses a binary sample above the header's maxval (it decoded to 200/100 = 2)", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("P5 2 1 100\n"), 50, 200]);
    assert.throws(
      () => decodeNetpbm(bytes, "x.pgm"),
      /^DatasetFormatError: x\.pgm: sample 1 of 2 is 200, above the header's maxval 100$/,
    );
  });

  it("refuses a PNG whose header claims more pixels than an image may have, before decoding it", () => {
    // a real 1×1 PNG whose IHDR is rewritten to 20000×10000, its CRC recomputed, so pngjs would read it
    const bytes = PNG.sync.write(new PNG({ width: 1, height: 1 }));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(16, 20000);
    view.setUint32(20, 10000);
    view.setUint32(29, crc32(bytes.subarray(12, 29)));
    assert.throws(
      () => decodeImage(bytes, "big.png"),
      /^DatasetFormatError: big\.png: header says 20000×10000 \(200000000 pixels\), above the 178956970/,
    );
  });
  it("rejects a file that is not Netpbm", () => {
    assert.throws(() => decodeNetpbm(new TextEncoder().encode("GIF89a"), "x.pgm"), /x\.pgm: magic "GI"/);
  });
});
