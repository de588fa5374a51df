#!/usr/bin/env node
// Builds the built-in text dataset `debian-sections` (docs/adr/0028-text-dataset-and-tokenizer.md):
// Debian package short descriptions labelled by their archive Section, snapshotted from the apt lists
// of this machine into packages/sfprompt/data/debian-sections.jsonl.gz plus a sidecar JSON.
// Deterministic: the same apt lists give the same bytes (every choice is a seeded hash, no RNG).
// Usage: node scripts/data/debian-sections.mjs [--lists DIR] [--out DIR]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";

/** The topical sections kept, in label order (alphabetical; the label id is the position). */
const CLASSES = ["admin", "fonts", "games", "graphics", "math", "net", "science", "sound", "text", "web"];
const SEED = "debian-sections-v1";
const TEST_FRACTION = 0.2;
const MAX_PER_CLASS = 1200;
// Sources such as tesseract-lang (161 "Tesseract OCR language files for X") would otherwise fill a
// class with one template; at most this many texts come from one source package.
const MAX_PER_SOURCE = 5;
// Descriptions about packaging rather than the software's topic.
const PACKAGING_ONLY = /\b(transitional|dummy)\b/i;

// The release's own pockets only (not -updates, -security, -backports): a stable snapshot.
const LIST_NAME =
  /_dists_([a-z]+)_(main|contrib|non-free|non-free-firmware)_binary-([a-z0-9]+)_Packages(\.lz4|\.gz)?$/;

function args() {
  const a = process.argv.slice(2);
  const get = (flag, fallback) => (a.includes(flag) ? a[a.indexOf(flag) + 1] : fallback);
  const root = new URL("../..", import.meta.url).pathname;
  return {
    lists: get("--lists", "/var/lib/apt/lists"),
    out: get("--out", join(root, "packages/sfprompt/data")),
  };
}

function readList(path) {
  if (path.endsWith(".lz4"))
    return execFileSync("lz4", ["-dc", path], { maxBuffer: 1 << 30 }).toString("utf8");
  if (path.endsWith(".gz")) return gunzipSync(readFileSync(path)).toString("utf8");
  return readFileSync(path, "utf8");
}

/** Suite, codename, version and date from the InRelease (or Release) file next to a list. */
function releaseInfo(dir, listFile) {
  const prefix = listFile.slice(0, listFile.indexOf("_dists_") + "_dists_".length);
  const suite = LIST_NAME.exec(listFile)[1];
  const name = readdirSync(dir).find(
    (f) => f === `${prefix}${suite}_InRelease` || f === `${prefix}${suite}_Release`,
  );
  if (name === undefined) return { codename: suite };
  const text = readFileSync(join(dir, name), "utf8");
  const field = (key) => new RegExp(`^${key}: (.*)$`, "m").exec(text)?.[1];
  return {
    origin: field("Origin"),
    suite: field("Suite"),
    codename: field("Codename"),
    version: field("Version"),
    date: field("Date"),
  };
}

function* stanzas(text) {
  for (const block of text.split(/\n\n+/)) {
    const r = {};
    for (const line of block.split("\n")) {
      const m = /^([A-Za-z0-9-]+): (.*)$/.exec(line);
      if (m) r[m[1]] = m[2];
    }
    if (r.Package) yield r;
  }
}

const hash = (s) => createHash("sha256").update(`${SEED}:${s}`).digest();
const unit = (s) => hash(s).readUInt32BE(0) / 2 ** 32;
const byHash = (key) => (a, b) => Buffer.compare(hash(key(a)), hash(key(b)));

/** One entry per distinct text (case and spacing folded); null where two sections claim it. */
function collect(listTexts) {
  const byKey = new Map();
  for (const text of listTexts) {
    for (const r of stanzas(text)) {
      const section = r.Section?.replace(/^[a-z-]+\//, "");
      const description = r.Description?.trim().replace(/\s+/g, " ");
      if (!section || !description) continue;
      const key = description.toLowerCase();
      const source = (r.Source ?? r.Package).split(" ")[0];
      const seen = byKey.get(key);
      if (seen === undefined) byKey.set(key, { text: description, section, source });
      else if (seen !== null && seen.section !== section) byKey.set(key, null);
    }
  }
  return [...byKey.values()].filter((v) => v !== null);
}

function capPerSource(items) {
  const bySource = new Map();
  for (const it of [...items].sort(byHash((v) => v.text))) {
    const list = bySource.get(it.source) ?? [];
    if (list.length < MAX_PER_SOURCE) list.push(it);
    bySource.set(it.source, list);
  }
  return [...bySource.values()].flat();
}

/** Whole source packages go to one split, so that "foo" and "foo (data files)" never straddle it. */
function build(entries) {
  const rows = [];
  const counts = { train: {}, test: {} };
  for (const label of CLASSES) {
    const items = capPerSource(entries.filter((e) => e.section === label && !PACKAGING_ONLY.test(e.text)));
    for (const split of ["train", "test"]) {
      const cap = Math.round(MAX_PER_CLASS * (split === "test" ? TEST_FRACTION : 1 - TEST_FRACTION));
      const chosen = items
        .filter((e) => unit(`split:${e.source}`) < TEST_FRACTION === (split === "test"))
        .sort(byHash((e) => e.text))
        .slice(0, cap);
      counts[split][label] = chosen.length;
      for (const e of chosen) rows.push({ text: e.text, label, split });
    }
  }
  rows.sort(byHash((r) => `order:${r.text}`));
  return { rows, counts };
}

function main() {
  const { lists, out } = args();
  const files = readdirSync(lists)
    .filter((f) => LIST_NAME.test(f))
    .sort();
  if (files.length === 0)
    throw new Error(`${lists}: no *_dists_<suite>_<component>_binary-*_Packages lists; run apt-get update`);
  const { rows, counts } = build(collect(files.map((f) => readList(join(lists, f)))));
  const jsonl = rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const gz = gzipSync(Buffer.from(jsonl, "utf8"), { level: 9 });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "debian-sections.jsonl.gz"), gz);
  const meta = {
    dataset: "debian-sections",
    description: "Debian package short descriptions (Description:) labelled by archive Section",
    release: releaseInfo(lists, files[0]),
    lists: files,
    generator: "scripts/data/debian-sections.mjs",
    seed: SEED,
    classes: CLASSES,
    maxPerClass: MAX_PER_CLASS,
    maxPerSource: MAX_PER_SOURCE,
    testFraction: TEST_FRACTION,
    counts,
    samples: rows.length,
    sha256: createHash("sha256").update(gz).digest("hex"),
  };
  // Short arrays of strings on one line, as prettier writes them (the repo's lint checks this file).
  const json = JSON.stringify(meta, null, 2).replace(/\[\n\s+("[^[\]{}]*?")\n\s*\]/g, (all, items) => {
    const inline = `[${items.split(/,\n\s+/).join(", ")}]`;
    return inline.length <= 90 ? inline : all;
  });
  writeFileSync(join(out, "debian-sections.json"), `${json}\n`);
  console.log(
    JSON.stringify({
      wrote: join(out, "debian-sections.jsonl.gz"),
      bytes: gz.length,
      samples: rows.length,
      counts,
    }),
  );
}

main();
