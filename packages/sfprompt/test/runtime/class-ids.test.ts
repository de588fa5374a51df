// Label ids of folder and JSONL data a job reads without spec.classes.labels. A class's id was its
// place among the sorted class names of the data at hand, so a server's held-out folder (or a
// client's) that lacked a class gave the classes after it other ids than the clients trained on, and
// folders or labels named by id past 9 ("10" sorts before "2") got ids other than their names.
// Real files, the real bundle fixture; expected ids are computed here from the names written.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PartitionBundle, encodeNetpbm, loadClientData, loadEvalData, type Dataset } from "@sfprompt/core";
import { withTempDir } from "../datasets/fixtures.js";
import { tinyBundle, type BundleFixture } from "./bundle-fixture.js";
import { jobConfig } from "./job-fixture.js";

let fixture: BundleFixture;
let bundle: PartitionBundle;
before(() => {
  fixture = tinyBundle();
  bundle = PartitionBundle.load(fixture.dir);
});
after(() => fixture.remove());

/** One 2×2 gray image per class folder, its gray level telling the folder: level = 10 × (k + 1). */
async function folder(root: string, classes: readonly string[]): Promise<string> {
  for (const [k, name] of classes.entries()) {
    await mkdir(join(root, name), { recursive: true });
    await writeFile(join(root, name, "a.pgm"), encodeNetpbm(2, 2, 1, new Uint8Array(4).fill(10 * (k + 1))));
  }
  return root;
}

/** The folder each sample came from, by its gray level, with the id the job gave it. */
function idsByFolder(ds: Dataset, classes: readonly string[]): Map<string, number> {
  const per = ds.sampleShape.reduce((a, b) => a * b, 1);
  const out = new Map<string, number>();
  for (let i = 0; i < ds.labels.length; i++) {
    const row = ds.rows === null ? i : ds.rows[i]!;
    const level = Math.round(Number(ds.x[row * per]!) * 255);
    out.set(classes[level / 10 - 1]!, ds.labels[i]!);
  }
  return out;
}

function job(numClasses: number, train: string, heldOut: string, labels?: string[]) {
  return jobConfig({
    classes: { numClasses, ...(labels ? { labels } : {}) },
    clients: { count: 1, perRound: { count: 1 } },
    training: { quorum: { count: 1 } },
    data: {
      source: { imageFolder: { path: train } },
      evalSource: { imageFolder: { path: heldOut } },
      partitioning: { strategy: "none" },
    },
  });
}

describe("class ids of folder data without spec.classes.labels", () => {
  it("refuses a held-out folder that lacks a class, naming spec.classes.labels", async () => {
    await withTempDir(async (dir) => {
      const train = await folder(join(dir, "train"), ["cat", "dog", "fox"]);
      const heldOut = await folder(join(dir, "eval"), ["dog", "fox"]);
      const config = job(3, train, heldOut);
      // the clients' ids: all three classes, sorted
      const trained = idsByFolder(await loadClientData(config, bundle, 0), ["cat", "dog", "fox"]);
      assert.deepEqual(
        [...trained],
        [
          ["cat", 0],
          ["dog", 1],
          ["fox", 2],
        ],
      );
      await assert.rejects(
        loadEvalData(config, bundle),
        /^RunConfigError: spec\.classes\.labels: is not set, and spec\.data\.evalSource \(imageFolder \S+eval\) holds 2 classes \[dog, fox\] for spec\.classes\.numClasses 3: .*set spec\.classes\.labels to the 3 class names in id order \(or name the class folders by id, 0\.\.2\)$/,
      );
    });
  });

  it("gives folders named by class id that id, past 9 and with ids missing", async () => {
    await withTempDir(async (dir) => {
      const names = ["0", "2", "10", "11"];
      const config = job(
        12,
        await folder(join(dir, "train"), names),
        await folder(join(dir, "eval"), ["10"]),
      );
      const ids = idsByFolder(await loadClientData(config, bundle, 0), names);
      assert.deepEqual(
        names.map((n) => ids.get(n)),
        names.map(Number),
      );
      assert.deepEqual([...idsByFolder((await loadEvalData(config, bundle))!, ["10"])], [["10", 10]]);
    });
  });

  it("takes every class's sorted place when the folder holds numClasses classes", async () => {
    await withTempDir(async (dir) => {
      const names = ["owl", "cat", "dog"];
      const config = job(3, await folder(join(dir, "train"), names), await folder(join(dir, "eval"), names));
      const sorted = [...names].sort();
      const ids = idsByFolder((await loadEvalData(config, bundle))!, names);
      assert.deepEqual(
        names.map((n) => ids.get(n)),
        names.map((n) => sorted.indexOf(n)),
      );
    });
  });

  it("keeps the job's ids for a folder lacking classes when spec.classes.labels is set", async () => {
    await withTempDir(async (dir) => {
      const labels = ["cat", "dog", "fox"];
      const config = job(
        3,
        await folder(join(dir, "train"), labels),
        await folder(join(dir, "eval"), ["fox"]),
        labels,
      );
      assert.deepEqual([...idsByFolder((await loadEvalData(config, bundle))!, ["fox"])], [["fox", 2]]);
    });
  });
});

describe("class ids of JSONL data without spec.classes.labels", () => {
  const x = new Array(28 * 28).fill(0);
  const jsonl = (labels: readonly (string | number)[]): string =>
    labels.map((label) => JSON.stringify({ x, label })).join("\n");
  function jsonlJob(numClasses: number, train: string, heldOut: string) {
    return jobConfig({
      classes: { numClasses },
      clients: { count: 1, perRound: { count: 1 } },
      training: { quorum: { count: 1 } },
      data: {
        source: { jsonl: { path: train } },
        evalSource: { jsonl: { path: heldOut } },
        partitioning: { strategy: "none" },
      },
    });
  }

  it("refuses string labels that name fewer classes than numClasses, and gives id-named labels their id", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "train.jsonl"), jsonl(["cat", "dog", "fox"]));
      await writeFile(join(dir, "eval.jsonl"), jsonl(["fox", "dog"]));
      const named = jsonlJob(3, join(dir, "train.jsonl"), join(dir, "eval.jsonl"));
      await assert.rejects(
        loadEvalData(named, bundle),
        /^RunConfigError: spec\.classes\.labels: is not set, and spec\.data\.evalSource \(jsonl \S+eval\.jsonl\) holds 2 classes \[dog, fox\] for spec\.classes\.numClasses 3: .*\(or use integer labels 0\.\.2\)$/,
      );
      const ids = ["11", "2", "10"];
      await writeFile(join(dir, "ids.jsonl"), jsonl(ids));
      const byId = jsonlJob(12, join(dir, "ids.jsonl"), join(dir, "ids.jsonl"));
      const held = (await loadEvalData(byId, bundle))!;
      assert.deepEqual(Array.from(held.labels), ids.map(Number));
    });
  });
});
