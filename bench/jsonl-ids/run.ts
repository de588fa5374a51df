// Peak memory of reading JSONL token ids as int32 and as int64 (what BERT-style exports take), each
// load in a fresh process over one real file. Usage:
//   node --conditions=source --import tsx bench/jsonl-ids/run.ts [lines=40000] [seqLen=128] [runs=3] [idsPerLine=seqLen]
// (idsPerLine below seqLen: rows mostly padding, where the ids array, not the parsed lines, is the cost)
import { spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [lines = 40000, seqLen = 128, runs = 3, idsPerLine = seqLen] = process.argv.slice(2).map(Number);
const LOAD = new URL("./load.ts", import.meta.url).pathname;

async function writeIds(path: string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    const ids = Array.from({ length: idsPerLine }, (_, k) => (i * 7 + k) % 30000);
    if (!out.write(`${JSON.stringify({ ids, label: i % 2 })}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

function load(path: string, dtype: string): { idsBytes: number; peakAdded: number } {
  const r = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", LOAD, path, String(seqLen), dtype],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`load ${dtype} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as { idsBytes: number; peakAdded: number };
}

const MiB = 1 << 20;
const dir = await mkdtemp(join(tmpdir(), "jsonl-ids-bench-"));
try {
  const path = join(dir, "ids.jsonl");
  await writeIds(path);
  for (const dtype of ["int32", "int64"]) {
    const peaks = Array.from({ length: runs }, () => load(path, dtype));
    const added = peaks.map((p) => p.peakAdded).sort((a, b) => a - b);
    const ids = peaks[0]?.idsBytes ?? 0;
    console.log(
      JSON.stringify({
        dtype,
        lines,
        seqLen,
        idsPerLine,
        idsMiB: +(ids / MiB).toFixed(1),
        peakAddedMiB: added.map((a) => +(a / MiB).toFixed(1)),
        medianPerIdsByte: +((added[Math.floor(runs / 2)] ?? 0) / ids).toFixed(2),
      }),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
