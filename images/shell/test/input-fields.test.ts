// The client entry point on jobs whose model or data cannot be had in its container, against a real
// nats-server: each fails at start-up (config.invalid, exit 1) naming the job's field as the job's
// author wrote it (spec.model.source.path, spec.data.source), as the split and class-count errors do,
// and a missing Fashion-MNIST says which split is missing where, and what sets that folder.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();

/** Client 0 of a job `spec` as the operator gives it; its config.invalid line once it exits 1. */
async function clientRefusal(name: string, spec: Record<string, unknown>, env: Record<string, string>) {
  const proc = spawnEntry(ENTRY.client, [], {
    SFPROMPT_RUN_CONFIG: w.tmp.write(`${name}.json`, JSON.stringify(runConfig(spec, name))),
    NATS_URL: w.nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_CLIENT_INDEX: "0",
    SFPROMPT_CLIENT_COUNT: "2",
    SFPROMPT_CACHE_DIR: join(w.tmp.dir, `cache-${name}`),
    ...env,
  });
  try {
    const line = await proc.waitForLog(
      (l) => l.event === "config.invalid" || l.event === "runtime.failed",
      60_000,
    );
    assert.equal((await proc.exited).code, 1, proc.stderr());
    assert.equal(line.event, "config.invalid");
    return line;
  } finally {
    proc.kill("SIGKILL");
  }
}

test("a model.source.path that is not in the container is named spec.model.source.path", async () => {
  const missing = join(w.tmp.dir, "no-such-model.onnx");
  const line = await clientRefusal("model-missing", { model: { source: { path: missing } } }, {});
  assert.equal(line.field, "spec.model.source.path");
  assert.equal(
    line.error,
    `spec.model.source.path: ${missing} does not exist in this container; mount the model there`,
  );
});

test("Fashion-MNIST missing from SFPROMPT_FASHION_MNIST_DIR is named spec.data.source, with the split, the folder and the variable", async () => {
  const empty = join(w.tmp.dir, "no-fashion-mnist");
  mkdirSync(empty);
  const line = await clientRefusal(
    "fashion-missing",
    {},
    { SFPROMPT_BUNDLE_DIR: w.bundle.dir, SFPROMPT_FASHION_MNIST_DIR: empty },
  );
  assert.equal(line.field, "spec.data.source");
  assert.equal(
    line.error,
    `spec.data.source: cannot load: ${empty}/train-images-idx3-ubyte.gz: Fashion-MNIST's train split is not in ${empty} ` +
      "(SFPROMPT_FASHION_MNIST_DIR): set SFPROMPT_FASHION_MNIST_DIR to a folder with its IDX files " +
      "(train-images-idx3-ubyte and train-labels-idx1-ubyte, t10k-… for the test split, each .gz or not), " +
      "or unset it to read Debian's dataset-fashion-mnist (scripts/setup.sh installs it)",
  );
});
