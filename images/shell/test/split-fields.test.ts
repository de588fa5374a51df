// The server and client entry points on a job whose model cannot be split as its spec.model.split
// asks (more head blocks than the model has), preparing the bundle themselves from model.source.path
// as on a cluster: each fails naming the job's field (spec.model.split.headBlocks), with the
// splitter's message, instead of sfprompt prepare's --head-blocks, which the job's author never typed;
// so does a cut tensor the model does not have (spec.model.split.cutTensors.head, not --cut-head).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writeModel } from "@sfprompt/engine";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { tinyVit } from "../../../packages/sfprompt/test/runtime/tiny-vit.js";
import { ENTRY, runConfig, spawnEntry, tempDir } from "./harness.js";

let nats: TestNats;
let model = "";
const tmp = tempDir();

before(async () => {
  nats = await startNatsServer();
  model = join(tmp.dir, "vit.onnx");
  writeModel(model, tinyVit({ blocks: 2 }));
});
after(async () => {
  await nats.stop();
  tmp.remove();
});

const MESSAGE =
  /^spec\.model\.split\.headBlocks: the model cannot be split as the job asks \(in sfprompt prepare's flags: --head-blocks 2 leaves no block for the body: the model has 2 blocks \(timm\), so use 0\.\.1\)$/;

/** A job of 2 head blocks on a 2-block ViT, as the operator gives it to a process, and its env. */
function twoHeadBlocks(name: string, env: Record<string, string>): Record<string, string> {
  return splitEnv(name, { headBlocks: 2 }, env);
}

/** A job on the 2-block ViT split as `split` says, as the operator gives it to a process, and its env. */
function splitEnv(name: string, split: object, env: Record<string, string>): Record<string, string> {
  const config = runConfig({ model: { source: { path: model }, split } }, name);
  return {
    SFPROMPT_RUN_CONFIG: tmp.write(`${name}.json`, JSON.stringify(config)),
    NATS_URL: nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_CACHE_DIR: join(tmp.dir, `cache-${name}`),
    ...env,
  };
}

test("a client exits 1 naming spec.model.split.headBlocks, not --head-blocks alone", async () => {
  const env = twoHeadBlocks("split-client", { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_CLIENT_COUNT: "2" });
  const proc = spawnEntry(ENTRY.client, [], env);
  try {
    const line = await proc.waitForLog(
      (l) => l.event === "config.invalid" || l.event === "runtime.failed",
      60_000,
    );
    assert.equal((await proc.exited).code, 1, proc.stderr());
    assert.deepEqual([line.event, line.field], ["config.invalid", "spec.model.split.headBlocks"]);
    assert.match(String(line.error), MESSAGE);
  } finally {
    proc.kill("SIGKILL");
  }
});

test("a server fails the job naming spec.model.split.headBlocks", async () => {
  const name = "split-server";
  const proc = spawnEntry(ENTRY.server, [], twoHeadBlocks(name, { SFPROMPT_LINGER_AFTER_FINISH: "true" }));
  try {
    const line = await proc.waitForLog(
      (l) => l.event === "config.invalid" || l.event === "runtime.failed",
      60_000,
    );
    assert.deepEqual(
      [line.event, line.field, line.jobFailed],
      ["config.invalid", "spec.model.split.headBlocks", true],
    );
    assert.match(String(line.error), MESSAGE);
  } finally {
    proc.kill("SIGKILL");
  }
});

test("a client exits 1 naming spec.model.split.cutTensors.head for a cut tensor the model lacks, not --cut-head alone", async () => {
  const split = { cutTensors: { head: "nope", body: "nope-too" } };
  const env = splitEnv("cut-client", split, { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_CLIENT_COUNT: "2" });
  const proc = spawnEntry(ENTRY.client, [], env);
  try {
    const line = await proc.waitForLog(
      (l) => l.event === "config.invalid" || l.event === "runtime.failed",
      60_000,
    );
    assert.equal((await proc.exited).code, 1, proc.stderr());
    assert.deepEqual([line.event, line.field], ["config.invalid", "spec.model.split.cutTensors.head"]);
    assert.match(
      String(line.error),
      /^spec\.model\.split\.cutTensors\.head: the model cannot be split as the job asks \(in sfprompt prepare's flags: --cut-head "nope" is not a tensor of the model/,
    );
  } finally {
    proc.kill("SIGKILL");
  }
});
