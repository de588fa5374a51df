// A job on a user's image folder across processes: one server and two client entry points (real child
// processes, a real nats-server, the tiny ViT taking [1, 28, 28]) read folders of 14×14 RGB PNGs, as
// spec.data.source.imageFolder and evalSource name them. The images read them as they lay: 14×14 RGB
// decoded to grayscale by default, never resized to the model's input, so the clients failed in
// their first round (ORT: invalid dimensions), after reporting ready. They are resized to the model's
// [1, 28, 28] (the API's "mode unset: what the model's input takes") and the round completes.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PNG } from "pngjs";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();

/** `perClass` 14×14 RGB PNGs in each of the folders 0..9, their colour telling class and image apart. */
function folder(name: string, perClass: number): string {
  const root = join(w.tmp.dir, name);
  for (let c = 0; c < 10; c++) {
    mkdirSync(join(root, String(c)), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const img = new PNG({ width: 14, height: 14 });
      for (let p = 0; p < 14 * 14; p++) img.data.set([c * 25, i * 10, (p * 7) % 256, 255], p * 4);
      writeFileSync(join(root, String(c), `${i}.png`), PNG.sync.write(img));
    }
  }
  return root;
}

test("a server and two clients train a round on image folders whose images are not the model's size", async () => {
  const base = runConfig({ training: { rounds: 1, evaluation: { maxSamples: 20 } } }, "image-folder-job");
  // the harness's job names a built-in source; this one is the user's folders
  const config = {
    ...base,
    data: {
      ...base.data,
      source: { imageFolder: { path: folder("train", 4) } },
      evalSource: { imageFolder: { path: folder("eval", 2) } },
      partitioning: { strategy: "iid" as const, seed: 1, alpha: 0.5 },
    },
  };
  const path = w.tmp.write("job.json", JSON.stringify(config));
  const common = ["--config", path, "--nats-url", w.nats.url, "--http-host", "127.0.0.1", "--http-port", "0"];
  common.push("--bundle-dir", w.bundle.dir);
  const server = spawnEntry(ENTRY.server, common);
  const clients = [0, 1].map((i) => spawnEntry(ENTRY.client, [...common, "--client-index", String(i)]));
  try {
    // the clients first: without the change they fail their round while the server waits for it
    for (const [i, c] of clients.entries()) {
      const exit = await c.exited;
      const said = JSON.stringify(c.logs.filter((l) => l.level !== "debug").slice(-4));
      assert.equal(exit.code, 0, `client ${i}: ${said} ${c.stderr()}`);
      assert.deepEqual(c.logs.find((l) => l.event === "client.done")?.rounds, [1], `client ${i}`);
      // 40 images split between two clients
      assert.equal(c.logs.find((l) => l.event === "client.data")?.samples, 20);
    }
    assert.equal((await server.exited).code, 0, server.stderr());
    const finished = server.logs.find((l) => l.event === "round-finished");
    assert.equal(finished?.round, 1);
    assert.equal(typeof finished?.accuracy, "number", "the held-out folder was evaluated");
  } finally {
    for (const p of [server, ...clients]) p.kill("SIGKILL");
  }
});
