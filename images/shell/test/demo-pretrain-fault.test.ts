// A builtin: demo client that pre-trains its model (none cached) and meets a system error on a
// Fashion-MNIST file that is neither a permission error nor a missing file (here ELOOP: the labels
// file is a symbolic link to itself). ADR 0017 amendment 13 keeps such an error outside the cache
// folder as runtime.failed (exit 3); demoInputError took it for a write the cache folder refused and
// said 'builtin: demo: the model cannot be written under <cache folder> (ELOOP: ... <labels file>)'
// (config.invalid, exit 1), sending the user to a cache folder that is fine (amendment 16).
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const fx = useEntryFixtures();

/** An IDX images file of `n` black 28 x 28 images (magic 0x00000803, dims n, 28, 28). */
function idxImages(n: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(n, 4);
  header.writeUInt32BE(28, 8);
  header.writeUInt32BE(28, 12);
  return Buffer.concat([header, Buffer.alloc(n * 28 * 28)]);
}

describe("a demo model pre-trained on a Fashion-MNIST file the system cannot open (ELOOP)", () => {
  it("ends in runtime.failed naming the file, not blamed on the cache folder", async () => {
    const fashion = join(fx.tmp.dir, "fashion");
    mkdirSync(fashion);
    writeFileSync(join(fashion, "train-images-idx3-ubyte"), idxImages(2));
    const labels = join(fashion, "train-labels-idx1-ubyte");
    symlinkSync(labels, labels); // a link to itself: open() answers ELOOP
    const cache = join(fx.tmp.dir, "cache");
    const configFile = fx.tmp.write(
      "demo-eloop.json",
      JSON.stringify(runConfig({ model: { source: { builtin: "demo" } } }, "demo-eloop")),
    );
    const proc = spawnEntry(ENTRY.client, [], {
      SFPROMPT_RUN_CONFIG: configFile,
      NATS_URL: fx.nats.url,
      SFPROMPT_HTTP_HOST: "127.0.0.1",
      SFPROMPT_HTTP_PORT: "0",
      SFPROMPT_CACHE_DIR: cache,
      SFPROMPT_FASHION_MNIST_DIR: fashion,
      SFPROMPT_CLIENT_INDEX: "0",
      SFPROMPT_CLIENT_COUNT: "2",
    });
    try {
      const line = await proc.waitForLog(
        (l) => ["config.invalid", "runtime.failed", "runtime.ready", "client.data"].includes(l.event),
        120_000,
      );
      const said = JSON.stringify(line);
      assert.doesNotMatch(said, /cannot be written under/, "the cache folder is not what failed");
      assert.equal(line.event, "runtime.failed", said);
      assert.match(said, /ELOOP/);
      assert.ok(said.includes(labels), `names the file: ${said}`);
      assert.equal((await proc.exited).code, 3, proc.stderr());
      // the cache folder holds no model: the pre-training never got to write one
      assert.deepEqual(
        readdirSync(join(cache, "models")).filter((f) => !f.startsWith(".")),
        [],
      );
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
