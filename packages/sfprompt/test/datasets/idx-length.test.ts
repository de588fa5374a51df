// checkIdxFileLength: an IDX file's length against its header from the first block and the gzip
// trailer, without reading its elements (ADR 0016 amendment 54). Real files: Debian's Fashion-MNIST
// and files written here; each refusal is one the whole read (readIdxFile) makes too.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { crc32, deflateRawSync, gunzipSync, gzipSync } from "node:zlib";
import {
  DatasetFormatError,
  checkIdxFileLength,
  fashionMnistFiles,
  fashionMnistProblem,
  loadFashionMnist,
  readIdxFile,
} from "@sfprompt/core";
import { encodeIdxBytes, withTempDir } from "./fixtures.js";

const pixels = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 37) % 256);

/** A gzip of `data` (one member, FCOMMENT set: RFC 1952's header, a raw deflate, CRC-32 and ISIZE). */
function gzipWithComment(data: Buffer, comment: string): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, Buffer.from(`${comment}\0`, "latin1"), deflateRawSync(data), trailer]);
}

describe("checkIdxFileLength", () => {
  it("passes Debian's Fashion-MNIST files with the header the whole read finds", async () => {
    for (const split of ["train", "test"] as const) {
      const files = fashionMnistFiles(split);
      const labels = await readIdxFile(files.labels);
      assert.deepEqual(checkIdxFileLength(files.labels), {
        dtype: labels.dtype,
        dims: labels.dims,
        bytes: 8 + labels.data.length,
      });
      assert.deepEqual(checkIdxFileLength(files.images).dims, [labels.dims[0], 28, 28]);
    }
  });

  it("passes a gzip of two members, whose trailer gives the last member's length only", async () => {
    await withTempDir(async (dir) => {
      const whole = Buffer.from(encodeIdxBytes([3, 2, 2], pixels(12)));
      const path = join(dir, "two-members.gz");
      await writeFile(path, Buffer.concat([gzipSync(whole.subarray(0, 10)), gzipSync(whole.subarray(10))]));
      assert.equal((await readIdxFile(path)).dims[0], 3, "the whole read takes it");
      assert.deepEqual(checkIdxFileLength(path), { dtype: "uint8", dims: [3, 2, 2], bytes: 28 });
    });
  });

  it("passes a gzip whose header runs past the first 4 KiB (a long comment), as gunzip and the whole read do", async () => {
    await withTempDir(async (dir) => {
      const whole = Buffer.from(encodeIdxBytes([3, 2, 2], pixels(12)));
      const path = join(dir, "long-comment.gz");
      await writeFile(path, gzipWithComment(whole, "x".repeat(5000)));
      assert.deepEqual(gunzipSync(readFileSync(path)), whole, "a gzip reader takes it");
      assert.equal((await readIdxFile(path)).dims[0], 3, "the whole read takes it");
      assert.deepEqual(checkIdxFileLength(path), { dtype: "uint8", dims: [3, 2, 2], bytes: 28 });
    });
  });

  const refused = [
    {
      name: "a plain file one byte short",
      bytes: (whole: Buffer): Buffer => whole.subarray(0, whole.length - 1),
      match:
        /: is 27 bytes, but its IDX header declares \[3, 2, 2\] uint8, 28 bytes with the header: the file is cut short$/,
    },
    {
      name: "a plain file one byte long",
      bytes: (whole: Buffer): Buffer => Buffer.concat([whole, Buffer.of(0)]),
      match: /: is 29 bytes, .*: the file holds more than its header says$/,
    },
    {
      name: "a gzip cut inside its data",
      bytes: (whole: Buffer): Buffer => gzipSync(whole).subarray(0, 24),
      match:
        /: decompresses to \d+ bytes before its gzip stream ends, but .* 28 bytes with the header: the file is cut short$/,
    },
    {
      name: "a gzip of more data than the header declares",
      bytes: (whole: Buffer): Buffer => gzipSync(Buffer.concat([whole, Buffer.alloc(5)])),
      match: /: decompresses to more bytes, but .*: the file holds more than its header says$/,
    },
    {
      name: "a gzip of something else",
      bytes: (): Buffer => gzipSync(Buffer.from("PK\u0003\u0004 a zip")),
      match: /: bad IDX magic number 50 4b 03 04/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, as the whole read does`, async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, "images-idx3-ubyte");
        await writeFile(path, c.bytes(Buffer.from(encodeIdxBytes([3, 2, 2], pixels(12)))));
        await assert.rejects(readIdxFile(path), DatasetFormatError, "the whole read refuses it too");
        assert.throws(
          () => checkIdxFileLength(path),
          (e: unknown) => e instanceof DatasetFormatError && e.source === path && c.match.test(e.message),
        );
      });
    });
  }
});

describe("Fashion-MNIST damaged in its folder", () => {
  it("is refused by fashionMnistProblem and the loader with one message naming the file and what to do", async () => {
    await withTempDir(async (dir) => {
      const debian = fashionMnistFiles("test");
      await writeFile(
        join(dir, "t10k-images-idx3-ubyte.gz"),
        readFileSync(debian.images).subarray(0, 100_000),
      );
      await writeFile(join(dir, "t10k-labels-idx1-ubyte.gz"), readFileSync(debian.labels));
      const problem = fashionMnistProblem("test", dir);
      assert.ok(problem instanceof DatasetFormatError, String(problem));
      assert.match(
        problem.message,
        new RegExp(
          `^${dir}/t10k-images-idx3-ubyte\\.gz: decompresses to \\d+ bytes before its gzip stream ends, but its IDX header ` +
            `declares \\[10000, 28, 28\\] uint8, ${16 + 10000 * 28 * 28} bytes with the header: the file is cut short; ` +
            `Fashion-MNIST's test split in ${dir} \\(the dir option\\) is damaged: give a folder with intact copies`,
        ),
      );
      await assert.rejects(loadFashionMnist({ split: "test", dir }), { message: problem.message });
    });
  });
});
