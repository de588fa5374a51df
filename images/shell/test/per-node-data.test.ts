// A client entry point (a real child process; a real nats-server) on a folder of its own, as a client
// pod reads spec.data.source.imageFolder on its node: with spec.data.partitioning.strategy unset it
// trains on the whole folder. The default was iid for every source, so a client on a cluster kept a
// 1/K share of its own data without a word. An explicit iid (every node holds one copy) still splits.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ENTRY, pngFolder, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();

const CLASSES = 3;
const PER_CLASS = 12;

/** A folder of PNGs, PER_CLASS in each of the class folders 0..CLASSES-1. */
function folder(name: string): string {
  const classes = Array.from({ length: CLASSES }, (_, c) => String(c));
  return pngFolder(join(w.tmp.dir, name), classes, PER_CLASS);
}

const ALL = CLASSES * PER_CLASS;
const cases = [
  { name: "strategy unset trains on all of it", strategy: undefined, samples: ALL },
  { name: "strategy none trains on all of it", strategy: "none" as const, samples: ALL },
  { name: "strategy iid keeps its share of it, as asked", strategy: "iid" as const, samples: ALL / 2 },
];

describe("a client of two on a cluster, reading the folder on its node", () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const base = runConfig({ classes: { numClasses: CLASSES } }, `per-node-${i}`);
      const config = {
        ...base,
        data: {
          source: { imageFolder: { path: folder(`node-${i}`) } },
          evalSource: { imageFolder: { path: folder(`held-${i}`) } },
          partitioning: {
            seed: 1,
            alpha: 0.5,
            ...(c.strategy === undefined ? {} : { strategy: c.strategy }),
          },
        },
      };
      const proc = spawnEntry(ENTRY.client, [], {
        SFPROMPT_RUN_CONFIG: w.tmp.write(`per-node-${i}.json`, JSON.stringify(config)),
        NATS_URL: w.nats.url,
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        SFPROMPT_BUNDLE_DIR: w.bundle.dir,
        SFPROMPT_CLIENT_INDEX: "0",
        SFPROMPT_CLIENT_COUNT: "2",
      });
      try {
        const line = await proc.waitForLog(
          (l) => l.event === "client.data" || l.event === "config.invalid" || l.event === "runtime.failed",
          60_000,
        );
        assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${proc.stderr()}`);
        assert.equal(line.samples, c.samples);
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }
});
