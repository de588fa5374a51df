// Every process of a job derives the same classes and shards on its own: here real child processes
// under other locales (Swedish and Turkish collation differ from code-unit order: "Ä" after "Z", a
// dotless "ı"), another time zone and a smaller heap read the same image folder and must print what
// this process computes. Class order is checked against a code-unit sort computed here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { encodeNetpbm, holdOutIndices, loadImageFolder, partitionForJob } from "@sfprompt/core";
import { withTempDir } from "./fixtures.js";

const CHILD = fileURLToPath(new URL("./partition-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
// names whose order differs between locales and code units
const CLASSES = ["Zebra", "apple", "Äpfel", "éclair", "ıslak", "Istanbul", "10", "9"];

function childRun(root: string, env: Record<string, string>): unknown {
  const r = spawnSync(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      ...(env.HEAP ? [`--max-old-space-size=${env.HEAP}`] : []),
      CHILD,
      root,
    ],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...env },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("partitions across processes", () => {
  it("are the same under other locales, time zones and heaps, with classes in code-unit order", async () => {
    await withTempDir(async (root) => {
      for (const [k, name] of CLASSES.entries()) {
        await mkdir(join(root, name));
        for (let i = 0; i < 12; i++) {
          await writeFile(join(root, name, `${i}.pgm`), encodeNetpbm(1, 1, 1, Uint8Array.of(k * 12 + i)));
        }
      }
      const ds = await loadImageFolder(root);
      const codeUnits = [...CLASSES].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(ds.classNames, codeUnits);
      assert.notDeepEqual(
        codeUnits,
        [...CLASSES].sort(new Intl.Collator("sv").compare),
        "the names sort otherwise under a Swedish collation",
      );
      const shards = (strategy: "iid" | "dirichlet"): number[][] =>
        partitionForJob(ds, { strategy, alpha: 0.3, seed: 7 }, 3).map((v) => Array.from(v.rows ?? []));
      const here = {
        classNames: ds.classNames,
        labels: Array.from(ds.labels),
        iid: shards("iid"),
        dirichlet: shards("dirichlet"),
        heldOut: Array.from(
          holdOutIndices(ds.labels, ds.classNames.length, { fraction: 0.25, seed: 11 }).eval,
        ),
      };
      const envs: Record<string, string>[] = [
        { LANG: "sv_SE.UTF-8", LC_ALL: "sv_SE.UTF-8", TZ: "Pacific/Chatham" },
        { LANG: "tr_TR.UTF-8", LC_ALL: "tr_TR.UTF-8", TZ: "America/St_Johns", HEAP: "256" },
      ];
      for (const env of envs) {
        assert.deepEqual(childRun(root, env), here, JSON.stringify(env));
      }
    });
  });
});
