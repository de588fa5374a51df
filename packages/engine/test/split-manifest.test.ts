// manifest.json as written and read: the schema round trip, every listed file present (external data
// files included), and bundles written before the whole-model graphs existed still read (full = null).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { manifestFiles, readPartitionManifest, MANIFEST_FILE } from "@sfprompt/engine";
import { chainFiles, fixtureCase, writeCaseBundle } from "./helpers/split-cases.js";
import { maxAbsDiff, runChain } from "./helpers/split-run.js";

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

test("a bundle whose graphs keep their weights in external data files lists each data file beside its graph", async () => {
  const c = fixtureCase("vit");
  const options = { headBlocks: 1, promptLength: 2, numClasses: 3 };
  const inline = writeCaseBundle(c, options);
  // 0 bytes: every graph with an initializer past writeModel's 1 KiB threshold goes external, as a
  // model over 1 GiB does with the default
  const external = writeCaseBundle(c, options, { externalDataAbove: 0 });
  try {
    const m = readPartitionManifest(external.dir);
    assert.deepEqual(m, external.manifest, "the data entries read back");
    // the tail's classifier (3 classes) stays under the threshold: inline, no data file
    assert.equal(m.partitions[2]?.data, undefined);
    const entries = [
      m.partitions[0],
      m.partitions[1],
      m.local,
      m.gradients.body.recompute,
      m.gradients.local,
    ];
    for (const e of entries) {
      assert.ok(e !== undefined);
      assert.deepEqual(e.data, [`${e.file}.data`], `${e.file} lists its data file`);
    }
    const files = manifestFiles(m);
    for (const f of files) assert.ok(existsSync(external.file(f)), `${f} exists`);
    const onDisk = readdirSync(external.dir, { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".data"),
    );
    assert.deepEqual(
      [...onDisk].sort(),
      files.filter((f) => f.endsWith(".data")).sort(),
      "every data file written is listed, and no other",
    );
    const inlineManifest = readPartitionManifest(inline.dir);
    assert.ok(
      manifestFiles(inlineManifest).every((f) => !f.endsWith(".data")),
      "an inline bundle lists no data file",
    );
    // real ORT sessions over the files as written: the external weights are the inline ones
    const viaExternal = await runChain(chainFiles(external), c.feeds);
    const viaInline = await runChain(chainFiles(inline), c.feeds);
    assert.equal(maxAbsDiff(viaExternal[m.logits], viaInline[m.logits]), 0);
  } finally {
    inline.remove();
    external.remove();
  }
});

test("a manifest naming a file outside the bundle folder is refused, naming the field and the path", () => {
  // ADR 0006 amendment 10: "../x.onnx" or "/x.onnx" in a given bundle's manifest was access-checked at
  // start-up and opened by the bundle's sessions outside the folder
  const b = writeCaseBundle(fixtureCase("vit"), { headBlocks: 1, promptLength: 1 });
  try {
    const original = readFileSync(b.file(MANIFEST_FILE), "utf8");
    const OUT = 'absolute, or climbing out with ".."';
    const cases: { edit: (m: ManifestJson) => void; field: string; value: string; why?: string }[] = [
      {
        edit: (m) => (m.partitions[1]!.file = "../body.onnx"),
        field: "partitions.1.file",
        value: "../body.onnx",
      },
      { edit: (m) => (m.local.file = "/etc/passwd"), field: "local.file", value: "/etc/passwd" },
      {
        edit: (m) => (m.partitions[0]!.data = ["grad/../../w.bin"]),
        field: "partitions.0.data.0",
        value: "grad/../../w.bin",
      },
      // the folder itself, and no name: they passed (or said zod's "Too small") and failed when opened
      {
        edit: (m) => (m.partitions[2]!.file = "."),
        field: "partitions.2.file",
        value: ".",
        why: "the bundle folder itself",
      },
      {
        edit: (m) => (m.partitions[0]!.data = ["grad/.."]),
        field: "partitions.0.data.0",
        value: "grad/..",
        why: "the bundle folder itself",
      },
      { edit: (m) => (m.local.file = ""), field: "local.file", value: "", why: "empty" },
    ];
    for (const c of cases) {
      const json = JSON.parse(original) as ManifestJson;
      c.edit(json);
      writeFileSync(b.file(MANIFEST_FILE), JSON.stringify(json));
      assert.throws(
        () => readPartitionManifest(b.dir),
        (e: Error) =>
          e.name === "ManifestError" &&
          e.message ===
            `${b.file(MANIFEST_FILE)} is not a partition manifest: ${c.field}: "${c.value}" is not a file inside the bundle folder (${c.why ?? OUT})`,
        c.field,
      );
    }
    // a name that starts with two dots is a file inside it
    const json = JSON.parse(original) as ManifestJson;
    json.partitions[0]!.data = ["..head.onnx.data"];
    writeFileSync(b.file(MANIFEST_FILE), JSON.stringify(json));
    assert.deepEqual(readPartitionManifest(b.dir).partitions[0]?.data, ["..head.onnx.data"]);
  } finally {
    b.remove();
  }
});

type ManifestJson = { partitions: { file: string; data?: string[] }[]; local: { file: string } };
