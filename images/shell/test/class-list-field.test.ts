// The server and client entry points on a job without spec.classes.labels whose folder lacks a class
// (real child processes, a real nats-server, PNG folders written by the test): the refusal names the
// field to set, spec.classes.labels, not the source it was found in. It named spec.data.evalSource (or
// spec.data.source), whose value was fine, with the class list's message nested after "cannot load".
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ENTRY, pngFolder, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();

/** A folder of PNGs, twelve per class, in class folders named `classes`. */
function folder(name: string, classes: readonly string[]): string {
  return pngFolder(join(w.tmp.dir, name), classes, 12);
}

const ALL = ["bird", "cat", "dog"];
const cases: {
  name: string;
  entry: string;
  train: string[];
  held: string[];
  source: string;
  env: Record<string, string>;
}[] = [
  {
    name: "the server, whose held-out folder lacks a class",
    entry: ENTRY.server,
    train: ALL,
    held: ["cat", "dog"],
    source: "spec.data.evalSource",
    env: { SFPROMPT_LINGER_AFTER_FINISH: "false" },
  },
  {
    name: "a client, whose training folder lacks a class",
    entry: ENTRY.client,
    train: ["bird", "dog"],
    held: ALL,
    source: "spec.data.source",
    env: { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_CLIENT_COUNT: "2" },
  },
];

describe("a folder that lacks a class, in a job without a class list", () => {
  for (const [i, c] of cases.entries()) {
    it(`${c.name}, is refused at spec.classes.labels, saying which source lacks it`, async () => {
      const base = runConfig({ classes: { numClasses: 3 } }, `class-list-${i}`);
      const config = {
        ...base,
        data: {
          ...base.data,
          source: { imageFolder: { path: folder(`train-${i}`, c.train) } },
          evalSource: { imageFolder: { path: folder(`held-${i}`, c.held) } },
          partitioning: { strategy: "iid" as const, seed: 1, alpha: 0.5 },
        },
      };
      const proc = spawnEntry(c.entry, [], {
        SFPROMPT_RUN_CONFIG: w.tmp.write(`class-list-${i}.json`, JSON.stringify(config)),
        NATS_URL: w.nats.url,
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        SFPROMPT_BUNDLE_DIR: w.bundle.dir,
        ...c.env,
      });
      try {
        const line = await proc.waitForLog(
          (l) => l.event === "config.invalid" || l.event === "runtime.failed",
          60_000,
        );
        assert.equal(line.event, "config.invalid", proc.stderr());
        assert.equal(line.field, "spec.classes.labels");
        assert.match(String(line.error), /^spec\.classes\.labels: is not set, and /);
        assert.ok(String(line.error).includes(`${c.source} (imageFolder `), String(line.error));
        assert.ok(!proc.logs.some((l) => l.event === "runtime.ready"), "it never reported ready");
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }
});
