// The built-in text and digits loaders read their (small, known) files up to a documented size: a
// gzip that decompresses beyond it (a bomb, or a file that is not the one named) is stopped there
// with a DatasetFormatError naming the file, the limit and what to check, and so is a plain file
// larger than it. Real files: written here, gzipped with zlib.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import {
  DEBIAN_SECTIONS_MAX_BYTES,
  DatasetFormatError,
  SKLEARN_DIGITS_MAX_BYTES,
  loadDebianSections,
  loadSklearnDigits,
} from "@sfprompt/core";
import { withTempDir } from "./fixtures.js";

/** One byte past `cap` of newlines: blank lines to either reader, so only the size can refuse it. */
const pastCap = (cap: number): Buffer => Buffer.alloc(cap + 1, "\n");

const loaders = [
  {
    name: "debian-sections",
    cap: DEBIAN_SECTIONS_MAX_BYTES,
    check: /check that SFPROMPT_DEBIAN_SECTIONS \(or the path given\) names the JSONL file/,
    load: (path: string) =>
      loadDebianSections({ path, split: "train", tokenize: () => [2, 3], seqLen: 4, padId: 0 }),
  },
  {
    name: "sklearn digits",
    cap: SKLEARN_DIGITS_MAX_BYTES,
    check:
      /check that SFPROMPT_SKLEARN_DIGITS \(or the path given\) names sklearn\/datasets\/data\/digits\.csv\.gz/,
    load: (path: string) => loadSklearnDigits({ path }),
  },
];

describe("the built-in loaders read their files up to a documented size", () => {
  for (const l of loaders) {
    it(`${l.name}: a gzip decompressing past ${l.cap} bytes is stopped there, naming the file and limit`, async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, "data.gz");
        const gz = gzipSync(pastCap(l.cap));
        assert.ok(gz.length < 1 << 20, "the file itself is small");
        await writeFile(path, gz);
        await assert.rejects(l.load(path), (e: unknown) => {
          assert.ok(e instanceof DatasetFormatError, String(e));
          assert.equal(e.source, path);
          assert.match(e.message, new RegExp(`decompresses to more than the ${l.cap} bytes that`));
          assert.match(e.message, l.check);
          return true;
        });
      });
    });

    it(`${l.name}: a plain file past ${l.cap} bytes is refused, naming the file and limit`, async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, "data.txt");
        await writeFile(path, pastCap(l.cap));
        await assert.rejects(l.load(path), (e: unknown) => {
          assert.ok(e instanceof DatasetFormatError, String(e));
          assert.equal(e.source, path);
          assert.match(e.message, new RegExp(`is ${l.cap + 1} bytes, more than the ${l.cap} bytes that`));
          assert.match(e.message, l.check);
          return true;
        });
      });
    });
  }
});
