// A client entry point whose job asks for a split its data cannot give (more clients than samples
// for Dirichlet's minimum share, against a real nats-server): it exits 1 at start-up with
// config.invalid naming the job field to change, not runtime.failed with a stack (exit 3), which the
// operator restarts into the same failure.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadBuiltinDataset } from "@sfprompt/core";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();

test("a client whose Dirichlet split cannot give every client 10 samples exits 1, naming spec.clients.count", async () => {
  // the training split's size, read here as the client reads it
  const samples = (await loadBuiltinDataset("mnist", { split: "train" })).labels.length;
  const clients = Math.floor(samples / 10) + 1;
  const config = runConfig(
    {
      clients: { count: clients, perRound: { count: 2 } },
      data: {
        source: { builtin: "mnist" },
        partitioning: { strategy: "dirichlet", alpha: 0.5, seed: 1 },
      },
    },
    "partition-refused",
  );
  const proc = spawnEntry(ENTRY.client, [], {
    SFPROMPT_RUN_CONFIG: w.tmp.write("job.json", JSON.stringify(config)),
    NATS_URL: w.nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_BUNDLE_DIR: w.bundle.dir,
    SFPROMPT_CLIENT_INDEX: "0",
    SFPROMPT_CLIENT_COUNT: String(clients),
  });
  try {
    const line = await proc.waitForLog(
      (l) => l.event === "config.invalid" || l.event === "runtime.failed",
      60_000,
    );
    assert.equal(line.event, "config.invalid", JSON.stringify(line));
    assert.equal((await proc.exited).code, 1, proc.stderr());
    assert.equal(line.field, "spec.clients.count");
    assert.equal(
      line.error,
      `spec.clients.count: is ${clients}, but strategy dirichlet (spec.data.partitioning) gives every client 10 samples at least and the training data (spec.data.source) holds ${samples}, fewer than 10 × ${clients}; set spec.clients.count to ${Math.floor(samples / 10)} or less, or use strategy iid`,
    );
    assert.ok(!proc.logs.some((l) => l.event === "runtime.ready"), "it never reported ready");
  } finally {
    proc.kill("SIGKILL");
  }
});
