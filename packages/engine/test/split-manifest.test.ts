// manifest.json as written and read: the schema round trip, every listed file present, and bundles
// written before the whole-model graphs existed still read (full = null).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { readPartitionManifest, MANIFEST_FILE } from "@sfprompt/engine";
import { fixtureCase, writeCaseBundle } from "./helpers/split-cases.js";

test("the written manifest reads back unchanged and every file it lists exists with the listed inputs", () => {
  const b = writeCaseBundle(fixtureCase("bert"), { headBlocks: 1, promptLength: 2, numClasses: 3 });
  try {
    const m = readPartitionManifest(b.dir);
    assert.deepEqual(m, b.manifest);
    const g = m.gradients;
    const files = [
      ...m.partitions,
      m.local,
      m.full,
      g.head,
      g.body.recompute,
      g.body.saveActivations.forward,
      g.body.saveActivations.backward,
      g.tail,
      g.local,
      g.full,
    ];
    for (const f of files) {
      assert.ok(f !== null);
      assert.ok(existsSync(b.file(f.file)), `${f.file} exists`);
    }
    assert.deepEqual(
      m.partitions[1]?.inputs.map((i) => i.name),
      [m.activations.head, "attention_mask"],
      "the body takes the head output and the raw mask, which it extends itself",
    );
    assert.deepEqual(
      m.partitions[1]?.inputs[0]?.shape,
      ["batch", "sequence+2", 32],
      "the grown sequence is named",
    );
  } finally {
    b.remove();
  }
});

test("a manifest without the whole-model entries (an older bundle) reads with full = null", () => {
  const b = writeCaseBundle(fixtureCase("vit"), { headBlocks: 1, promptLength: 1 });
  try {
    const json = JSON.parse(readFileSync(b.file(MANIFEST_FILE), "utf8")) as Record<string, unknown> & {
      gradients: Record<string, unknown>;
    };
    delete json["full"];
    delete json.gradients["full"];
    writeFileSync(b.file(MANIFEST_FILE), JSON.stringify(json));
    const m = readPartitionManifest(b.dir);
    assert.equal(m.full, null);
    assert.equal(m.gradients.full, null);
    assert.equal(m.gradients.tail.file, b.manifest.gradients.tail.file);
  } finally {
    b.remove();
  }
});
