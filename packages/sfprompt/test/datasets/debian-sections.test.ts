// The built-in text dataset: the shipped snapshot (splits, classes, padding, disjoint texts) read
// through the real WordPiece tokenizer, and the generator run on a small apt list of our own.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { classCounts, sampleAt } from "../../src/datasets/dataset.js";
import {
  DEBIAN_SECTIONS_CLASSES,
  debianSectionsPath,
  loadDebianSections,
} from "../../src/datasets/debian-sections.js";
import { DatasetFormatError, DatasetNotFoundError } from "../../src/datasets/errors.js";
import { WordPieceTokenizer } from "../../src/text/wordpiece.js";

const VOCAB = fileURLToPath(new URL("../fixtures/wordpiece/vocab.txt", import.meta.url));
const GENERATOR = fileURLToPath(new URL("../../../../scripts/data/debian-sections.mjs", import.meta.url));
const SEQ = 16;

interface Row {
  text: string;
  label: string;
  split: "train" | "test";
}

const gz = await readFile(debianSectionsPath());
const rows = gunzipSync(gz)
  .toString("utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map((l) => JSON.parse(l) as Row);
const sidecar = JSON.parse(await readFile(debianSectionsPath().replace(/\.jsonl\.gz$/, ".json"), "utf8")) as {
  classes: string[];
  counts: Record<"train" | "test", Record<string, number>>;
  sha256: string;
  release: { codename: string; date: string };
};
const tokenizer = await WordPieceTokenizer.fromVocabFile(VOCAB);
const tokenize = (s: string): Int32Array => tokenizer.encode(s, SEQ);

/** Per-class counts of one split, read straight from the file. */
function fileCounts(split: "train" | "test"): number[] {
  const counts = DEBIAN_SECTIONS_CLASSES.map(() => 0);
  for (const r of rows)
    if (r.split === split)
      counts[DEBIAN_SECTIONS_CLASSES.indexOf(r.label)] =
        (counts[DEBIAN_SECTIONS_CLASSES.indexOf(r.label)] ?? 0) + 1;
  return counts;
}

describe("the shipped debian-sections snapshot", () => {
  it("its sidecar describes this very file: checksum, classes, per-split counts", () => {
    assert.equal(createHash("sha256").update(gz).digest("hex"), sidecar.sha256);
    assert.deepEqual(sidecar.classes, DEBIAN_SECTIONS_CLASSES);
    assert.equal(sidecar.release.codename, "bookworm");
    for (const split of ["train", "test"] as const) {
      assert.deepEqual(
        DEBIAN_SECTIONS_CLASSES.map((c) => sidecar.counts[split][c]),
        fileCounts(split),
      );
    }
  });

  it("is under 1 MB, with at most 1,200 texts per class and every class in both splits", () => {
    assert.ok(gz.length < 1_000_000, `${gz.length} bytes`);
    const train = fileCounts("train");
    const test = fileCounts("test");
    train.forEach((n, k) => {
      assert.ok(n > 0 && (test[k] as number) > 0, `class ${DEBIAN_SECTIONS_CLASSES[k]}`);
      assert.ok(n + (test[k] as number) <= 1200);
    });
  });

  it("no text (case folded) is in both splits, and none is listed twice", () => {
    const keys = rows.map((r) => r.text.toLowerCase());
    assert.equal(new Set(keys).size, keys.length);
    const train = new Set(rows.filter((r) => r.split === "train").map((r) => r.text.toLowerCase()));
    const shared = rows.filter((r) => r.split === "test" && train.has(r.text.toLowerCase()));
    assert.deepEqual(shared, []);
  });
});

describe("loadDebianSections", () => {
  for (const split of ["train", "test"] as const) {
    it(`the ${split} split has the file's samples per class, in DEBIAN_SECTIONS_CLASSES order`, async () => {
      const ds = await loadDebianSections({ split, tokenize, seqLen: SEQ, padId: tokenizer.padId });
      assert.deepEqual(ds.classNames, DEBIAN_SECTIONS_CLASSES);
      assert.deepEqual([...classCounts(ds)], fileCounts(split));
      assert.deepEqual(ds.sampleShape, [SEQ]);
      assert.ok(ds.x instanceof Int32Array);
      for (const y of ds.labels) assert.ok(y >= 0 && y < DEBIAN_SECTIONS_CLASSES.length);
    });
  }

  it("each row is [CLS] ids [SEP] of its text, padded with padId", async () => {
    const ds = await loadDebianSections({ split: "test", tokenize, seqLen: SEQ, padId: tokenizer.padId });
    const test = rows.filter((r) => r.split === "test");
    let padded = 0;
    test.forEach((r, i) => {
      const ids = tokenizer.encode(r.text, SEQ);
      const want = new Int32Array(SEQ).fill(tokenizer.padId);
      want.set(ids);
      assert.deepEqual(sampleAt(ds, i), want, r.text);
      assert.equal(ds.labels[i], DEBIAN_SECTIONS_CLASSES.indexOf(r.label));
      if (ids.length < SEQ) padded++;
    });
    assert.ok(padded > 0 && padded < test.length, "both padded and cut rows are checked");
  });

  it("dtype int64 gives the same ids as BigInt64Array", async () => {
    const options = { split: "test" as const, tokenize, seqLen: SEQ, padId: tokenizer.padId };
    const a = await loadDebianSections(options);
    const b = await loadDebianSections({ ...options, dtype: "int64" });
    assert.ok(b.x instanceof BigInt64Array);
    assert.deepEqual(Array.from(b.x, Number), [...a.x]);
  });
});

describe("loadDebianSections errors", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "debian-sections-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a missing file is a DatasetNotFoundError naming it", async () => {
    const path = join(dir, "none.jsonl.gz");
    await assert.rejects(
      loadDebianSections({ split: "train", tokenize, seqLen: SEQ, padId: 0, path }),
      (e: unknown) => e instanceof DatasetNotFoundError && e.path === path,
    );
  });

  it("a line without a split is a DatasetFormatError naming the line", async () => {
    const path = join(dir, "bad.jsonl.gz");
    const lines = [
      { text: "a game", label: "games", split: "train" },
      { text: "a font", label: "fonts" },
    ];
    await writeFile(path, gzipSync(lines.map((l) => JSON.stringify(l)).join("\n")));
    await assert.rejects(
      loadDebianSections({ split: "train", tokenize, seqLen: SEQ, padId: 0, path }),
      (e: unknown) => e instanceof DatasetFormatError && e.source === `${path}:2`,
    );
  });
});

describe("scripts/data/debian-sections.mjs on a small apt list", () => {
  let dir = "";
  const stanza = (pkg: string, section: string, description: string, source?: string): string =>
    [
      `Package: ${pkg}`,
      ...(source ? [`Source: ${source} (1.0-1)`] : []),
      `Section: ${section}`,
      `Description: ${description}`,
    ].join("\n");
  const packages = [
    stanza("chess", "games", "a chess game"),
    stanza("go", "games", "the  board game   Go"),
    stanza("shared-a", "games", "shared text"),
    stanza("shared-b", "sound", "Shared Text"),
    stanza("old", "games", "transitional package for chess"),
    stanza("synth", "contrib/sound", "a software synthesizer"),
    stanza("libfoo", "libs", "foo library"),
    ...Array.from({ length: 8 }, (_, k) => stanza(`lang-${k}`, "text", `dictionary number ${k}`, "dicts")),
  ];
  let out: Row[] = [];
  let meta: { counts: Record<string, Record<string, number>>; release: { codename: string } } | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "debian-sections-gen-"));
    await mkdir(join(dir, "lists"));
    await writeFile(
      join(dir, "lists", "m_dists_testing_main_binary-amd64_Packages"),
      packages.join("\n\n") + "\n",
    );
    await writeFile(
      join(dir, "lists", "m_dists_testing-updates_main_binary-amd64_Packages"),
      stanza("upd", "games", "an update"),
    );
    await writeFile(
      join(dir, "lists", "m_dists_testing_InRelease"),
      "Codename: testing\nDate: Mon, 1 Jan 2024\n",
    );
    execFileSync(process.execPath, [GENERATOR, "--lists", join(dir, "lists"), "--out", join(dir, "out")]);
    out = gunzipSync(await readFile(join(dir, "out", "debian-sections.jsonl.gz")))
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Row);
    meta = JSON.parse(await readFile(join(dir, "out", "debian-sections.json"), "utf8")) as typeof meta;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps topical sections, drops the component prefix, folds spaces", () => {
    const byText = new Map(out.map((r) => [r.text, r.label]));
    assert.equal(byText.get("a chess game"), "games");
    assert.equal(byText.get("the board game Go"), "games");
    assert.equal(byText.get("a software synthesizer"), "sound");
    assert.equal(byText.has("foo library"), false);
  });

  it("drops a text claimed by two sections, packaging-only texts and other pockets", () => {
    const texts = out.map((r) => r.text.toLowerCase());
    assert.equal(texts.includes("shared text"), false);
    assert.equal(texts.includes("transitional package for chess"), false);
    assert.equal(texts.includes("an update"), false);
  });

  it("takes at most 5 texts from one source package, all in one split", () => {
    const dicts = out.filter((r) => r.text.startsWith("dictionary number"));
    assert.equal(dicts.length, 5);
    assert.equal(new Set(dicts.map((r) => r.split)).size, 1);
  });

  it("records the release and the per-split counts", () => {
    assert.equal(meta?.release.codename, "testing");
    const total = Object.values(meta?.counts ?? {})
      .flatMap((c) => Object.values(c))
      .reduce((a, b) => a + b, 0);
    assert.equal(total, out.length);
  });
});
