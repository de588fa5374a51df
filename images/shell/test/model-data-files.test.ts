// A client entry point (a real child process, a real nats-server) given a model file
// (spec.model.source.path) to split into its cache folder, where the model keeps its weights in an
// external data file beside it (as ONNX exports over 2 GiB do), or is no ONNX model at all. A data
// file that is gone, or that the image's user (10001) cannot read, and a file that is no model ended
// in runtime.failed (exit 3, a pod restarted into the same failure) when the splitter read them; each
// is now refused at start-up naming the field and what to do (config.invalid, exit 1). The bundle
// cache's key covered the .onnx file alone, so new weights in the data file reused the old bundle;
// the data files are now hashed too. As root here, the unreadable case runs the process as 10001; as
// another user, the file is made unreadable to that user (mode 000) instead.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeModel } from "@sfprompt/engine";
import { writeModelNaming } from "../../../packages/engine/test/helpers/write-model-naming.js";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures, type LogLine } from "./harness.js";

const w = useEntryFixtures();
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);
const gid = asRoot ? IMAGE_USER.gid : (process.getgid?.() ?? -1);
const FIELD = "spec.model.source.path";
const STARTED = ["client.data", "runtime.ready", "config.invalid", "runtime.failed"];
const NOT_ONNX_HINT =
  "give the path of an ONNX model file (a PyTorch, safetensors or TensorFlow checkpoint is not one: export it to ONNX first, e.g. with torch.onnx.export)";

/** The tiny ViT at `folder`/vit.onnx with its weights in vit.onnx.data beside it. */
function modelWithData(folder: string): { model: string; data: string } {
  mkdirSync(folder, { recursive: true });
  const model = join(folder, "vit.onnx");
  writeModel(model, w.bundle.model, { externalData: {} });
  for (const p of [folder, model, `${model}.data`]) chmodSync(p, 0o755);
  return { model, data: `${model}.data` };
}

/** A client of job `name` splitting `model` into `cache`; its first start-up verdict and its exit. */
async function startOn(
  name: string,
  model: string,
  cache: string,
  user?: typeof IMAGE_USER,
): Promise<{ line: LogLine; logs: readonly LogLine[]; code: number | null }> {
  const config = w.tmp.write(
    `${name}.json`,
    JSON.stringify(runConfig({ model: { source: { path: model } } }, name)),
  );
  chmodSync(config, 0o644);
  chmodSync(w.tmp.dir, 0o755);
  const env = {
    SFPROMPT_RUN_CONFIG: config,
    NATS_URL: w.nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_CACHE_DIR: cache,
    SFPROMPT_CLIENT_INDEX: "0",
    SFPROMPT_CLIENT_COUNT: "2",
  };
  const proc = spawnEntry(ENTRY.client, [], env, user);
  try {
    const line = await proc.waitForLog((l) => STARTED.includes(l.event), 120_000);
    // a refused start exits by itself; a started client is stopped here
    if (line.event !== "config.invalid" && line.event !== "runtime.failed") proc.kill("SIGKILL");
    return { line, logs: proc.logs, code: (await proc.exited).code };
  } finally {
    proc.kill("SIGKILL");
  }
}

describe("a client given a model file that keeps its weights beside it, or is no model", () => {
  it("a model whose external data file is gone: refused naming the file (config.invalid, exit 1)", async () => {
    const { model, data } = modelWithData(join(w.tmp.dir, "gone"));
    rmSync(data);
    const cache = join(w.tmp.dir, "cache-gone");
    const s = await startOn("data-gone", model, cache);
    assert.equal(s.line.event, "config.invalid", JSON.stringify(s.line));
    assert.equal(s.line.field, FIELD);
    assert.equal(
      s.line.error,
      `${FIELD}: ${model} keeps its weights in ${data} (ONNX external data), which is not there; put that file beside the model, as the export wrote them (mount or copy them together)`,
    );
    assert.equal(s.code, 1);
  });

  it("a model whose external data file the image's user cannot read: names it, the user and the chmod", async () => {
    const { model, data } = modelWithData(join(w.tmp.dir, "closed"));
    chmodSync(data, asRoot ? 0o600 : 0o000);
    const cache = join(w.tmp.dir, "cache-closed");
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    const s = await startOn("data-closed", model, cache, asRoot ? IMAGE_USER : undefined);
    assert.equal(s.line.event, "config.invalid", JSON.stringify(s.line));
    assert.equal(
      s.line.error,
      `${FIELD}: ${data} cannot be read by this process's user (uid ${uid}, gid ${gid}; EACCES): ` +
        `make the model's external data file readable by uid ${uid} (on its volume or the node): chmod a+r ${data}` +
        ` (or chown ${uid}:${gid} ${data}), and its folders searchable (a+x); see docs/images.md`,
    );
    assert.equal(s.code, 1);
  });

  it("a file that is no ONNX model: refused saying to export one (config.invalid, exit 1)", async () => {
    const folder = join(w.tmp.dir, "pt");
    mkdirSync(folder);
    const model = join(folder, "model.pt");
    // a torch checkpoint is a zip archive
    writeFileSync(model, Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(64, 0xff)]));
    const s = await startOn("not-onnx", model, join(w.tmp.dir, "cache-pt"));
    assert.equal(s.line.event, "config.invalid", JSON.stringify(s.line));
    assert.equal(s.line.field, FIELD);
    assert.ok(
      String(s.line.error).startsWith(`${FIELD}: cannot load ONNX model ${model}: `),
      String(s.line.error),
    );
    assert.ok(String(s.line.error).endsWith(`; ${NOT_ONNX_HINT}`), String(s.line.error));
    assert.equal(s.code, 1);
  });

  it("a model whose external data climbs out of its folder (../): refused naming the location, not hashed or split", async () => {
    // ADR 0006 amendment 9: the location was listed, hashed for the cache key (a file outside the
    // model's folder read at every start) and met by the splitter's read (runtime.failed, exit 3)
    const folder = join(w.tmp.dir, "climbs", "model");
    mkdirSync(folder, { recursive: true });
    const model = join(folder, "vit.onnx");
    writeModelNaming(model, w.bundle.model, "../vit-weights.bin");
    for (const p of [folder, join(folder, ".."), model, join(folder, "..", "vit-weights.bin")])
      chmodSync(p, 0o755);
    const s = await startOn("data-climbs", model, join(w.tmp.dir, "cache-climbs"));
    assert.equal(s.line.event, "config.invalid", JSON.stringify(s.line));
    assert.equal(s.line.field, FIELD);
    const error = String(s.line.error);
    assert.ok(error.startsWith(`${FIELD}: cannot load ONNX model ${model}: tensor "`), error);
    assert.ok(
      error.includes(
        `" keeps its data at external location "../vit-weights.bin", a path that climbs out of it with "..", outside the model's folder ${folder}; ONNX external data must be a file in the model's folder (ONNX Runtime refuses any other): save the model again with its external data beside it`,
      ),
      error,
    );
    assert.ok(!error.includes(NOT_ONNX_HINT), error);
    assert.equal(s.logs.filter((l) => l.event === "bundle.prepared").length, 0);
    assert.equal(s.code, 1);
  });

  it("new weights in the data file are a new bundle, not the one cached for the old weights", async () => {
    const { model, data } = modelWithData(join(w.tmp.dir, "changed"));
    const cache = join(w.tmp.dir, "cache-changed");
    const first = await startOn("data-changed", model, cache);
    assert.equal(first.line.event, "client.data", JSON.stringify(first.line));
    const prepared = first.logs.find((l) => l.event === "bundle.prepared");
    assert.ok(prepared !== undefined, "the first start prepares the bundle");
    // the same graph (the .onnx file unchanged), other weights: every byte of the data file moved
    const bytes = readFileSync(data);
    for (let i = 0; i < bytes.length; i += 4) bytes[i] = (bytes[i] ?? 0) ^ 1;
    writeFileSync(data, bytes);
    const second = await startOn("data-changed", model, cache);
    assert.equal(second.line.event, "client.data", JSON.stringify(second.line));
    const again = second.logs.find((l) => l.event === "bundle.prepared" || l.event === "bundle.cached");
    assert.equal(again?.event, "bundle.prepared", JSON.stringify(again));
    assert.notEqual(again?.dir, prepared.dir);
  });
});
