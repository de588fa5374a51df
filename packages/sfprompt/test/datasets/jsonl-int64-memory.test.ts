// JSONL token ids read as int64 (what BERT-style exports take): the values the int32 read gives,
// sign and padding included, and a peak memory bounded by the int32 read's plus 1.5 times the int64
// array, each load in a process of its own over one real file (the median of three).
// BigInt64Array.from(int32 ids) made a BigInt per id: 40,000 lines of 128 ids (39 MiB as int64)
// added 222 MiB of peak RSS where the int32 read added 99 MiB (bench/jsonl-ids). Then the growing
// array (up to twice the ids) and its trimmed copy cost about 2.5 to 3.5 times the ids, which rows of
// mostly padding (where the parsed lines are small) show: the file's lines are now counted first and
// the array made once at its final size.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { once } from "node:events";
import { join } from "node:path";
import { loadJsonlTokens } from "@sfprompt/core";
import { withTempDir } from "./fixtures.js";

const LOAD = new URL("../../../../bench/jsonl-ids/load.ts", import.meta.url).pathname;

/** `lines` lines of `idsPerLine` ids each. */
async function writeIds(path: string, lines: number, idsPerLine: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    const ids = Array.from({ length: idsPerLine }, (_, k) => (i * 7 + k) % 30000);
    if (!out.write(`${JSON.stringify({ ids, label: i % 2 })}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

interface Peak {
  readonly idsBytes: number;
  readonly peakAdded: number;
}

/** The peak RSS one load added, in a fresh process, and the bytes of the ids it kept. */
function peakOfLoad(path: string, seqLen: number, dtype: string): Peak {
  const r = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", LOAD, path, String(seqLen), dtype],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, `load ${dtype}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as Peak;
}

/** The median peak of three loads: one load's peak moves with when the collector ran. */
function medianPeak(path: string, seqLen: number, dtype: string): Peak {
  const peaks = [0, 1, 2].map(() => peakOfLoad(path, seqLen, dtype));
  peaks.sort((a, b) => a.peakAdded - b.peakAdded);
  return peaks[1]!;
}

const MiB = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

describe("JSONL token ids as int64", () => {
  it("hold the int32 read's values, negative ids and padding included", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "ids.jsonl");
      const rows = [[-1, 5], [2147483647, -2147483648, 3, 4, 9], [7]];
      await writeFile(path, rows.map((ids, i) => JSON.stringify({ ids, label: i })).join("\n"));
      const options = { seqLen: 4, padId: 2 };
      const narrow = await loadJsonlTokens(path, { ...options, dtype: "int32" });
      const wide = await loadJsonlTokens(path, { ...options, dtype: "int64" });
      assert.ok(wide.x instanceof BigInt64Array);
      assert.deepEqual(
        Array.from(wide.x),
        Array.from(narrow.x, (v) => BigInt(v)),
      );
      assert.deepEqual(Array.from(wide.x.subarray(0, 4)), [-1n, 5n, 2n, 2n]);
    });
  });

  it("take at most the int32 read's peak memory plus 1.5 times the int64 array", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "ids.jsonl");
      await writeIds(path, 40_000, 128);
      const narrow = medianPeak(path, 128, "int32");
      const wide = medianPeak(path, 128, "int64");
      assert.equal(wide.idsBytes, 2 * narrow.idsBytes);
      const bound = narrow.peakAdded + 1.5 * wide.idsBytes;
      assert.ok(
        wide.peakAdded <= bound,
        `int64 read added ${MiB(wide.peakAdded)} of peak RSS; int32 ${MiB(narrow.peakAdded)}, bound ${MiB(bound)}`,
      );
    });
  });

  it("of rows that are mostly padding take about the ids array, with no growing copy", async () => {
    await withTempDir(async (dir) => {
      // 8 ids a line padded to 1024: the parsed lines are small, the ids array is the cost
      const path = join(dir, "padded.jsonl");
      await writeIds(path, 10_000, 8);
      const narrow = medianPeak(path, 1024, "int32");
      const wide = medianPeak(path, 1024, "int64");
      assert.equal(wide.idsBytes, 2 * narrow.idsBytes);
      // the growing array and its trimmed copy took 3.5 times the ids, as int32 and as int64
      assert.ok(
        narrow.peakAdded <= 2 * narrow.idsBytes,
        `int32 read added ${MiB(narrow.peakAdded)} of peak RSS for ${MiB(narrow.idsBytes)} of ids`,
      );
      // int64 costs the int32 read plus its wider array, and no more than half the int32 ids besides
      const bound = narrow.peakAdded + (wide.idsBytes - narrow.idsBytes) + 0.5 * narrow.idsBytes;
      assert.ok(
        wide.peakAdded <= bound,
        `int64 read added ${MiB(wide.peakAdded)} of peak RSS; int32 ${MiB(narrow.peakAdded)}, bound ${MiB(bound)}`,
      );
    });
  });
});
