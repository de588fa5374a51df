// The partition bundle through real ORT sessions: execution-provider fallback, the stored initial
// parameters, and the steps agreeing with each other (loss vs logits, recompute vs saved activations).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ActivationStash,
  cudaFailureReason,
  ORT_CUDA_WHEELS,
  ortNativeDir,
  PartitionBundle,
  RunQueue,
  batches,
  joinParams,
  softmaxCrossEntropy,
  stashKey,
  type DataBatch,
} from "@sfprompt/core";
import { fashionSubsets, tinyBundle, type BundleFixture } from "./bundle-fixture.js";

let fixture: BundleFixture;
let batch: DataBatch<Float32Array>;

before(async () => {
  fixture = tinyBundle();
  const { train } = await fashionSubsets();
  batch = batches(train, { batchSize: 6, seed: 2 }).next().value!;
});
after(() => fixture.remove());

test("asking for CUDA on a machine without it falls back to CPU and says so", async () => {
  const lines: string[] = [];
  const logger = {
    log: (level: string, event: string, f?: Record<string, unknown>) =>
      lines.push(JSON.stringify({ level, event, ...f })),
    child: () => logger,
  };
  const b = PartitionBundle.load(fixture.dir, { executionProvider: "cuda", cpuFallback: true, logger });
  try {
    await b.headForward(b.inputsOf(batch), b.initialParams().prompt);
    // this machine's onnxruntime-node ships CPU binaries only
    assert.equal(b.provider, "cpu");
    assert.ok(lines.some((l) => l.includes('"event":"cuda-unavailable"')));
    assert.ok(lines.some((l) => l.includes('"provider":"cpu"')));
    // ORT's own message does not say which library; the reason says the provider is not installed
    const reason = b.pool.fallbackReason ?? "";
    assert.match(reason, /^OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library: /);
    assert.ok(reason.includes(`no libonnxruntime_providers_cuda.so in ${ortNativeDir()}`), reason);
    assert.ok(reason.includes("ORT_INSTALL=pypi"), reason);
  } finally {
    await b.release();
  }
});

test("with the CUDA provider installed, a CUDA failure is put down to its libraries or the GPU", () => {
  const dir = mkdtempSync(join(tmpdir(), "sfp-ort-bin-"));
  try {
    writeFileSync(join(dir, "libonnxruntime_providers_cuda.so"), "");
    const reason = cudaFailureReason("Failed to load shared library", dir);
    assert.ok(
      reason.startsWith(`Failed to load shared library: the CUDA provider is installed in ${dir}`),
      reason,
    );
    // the versions come from the pin of the onnxruntime-node installed here
    const version = (
      JSON.parse(readFileSync(join(ortNativeDir(), "../../../../package.json"), "utf8")) as {
        version: string;
      }
    ).version;
    const pin = ORT_CUDA_WHEELS[version]!;
    assert.ok(
      reason.includes(`it needs CUDA ${pin.cuda} and cuDNN ${pin.cudnn} on the library path`),
      reason,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the initial parameters are the manifest's trainable tensors with their shapes", () => {
  const b = PartitionBundle.load(fixture.dir);
  const { prompt, tail } = b.initialParams();
  const all = joinParams(prompt, tail);
  assert.deepEqual(
    [...all.keys()],
    b.manifest.parameters.map((p) => p.name),
  );
  for (const p of b.manifest.parameters) assert.deepEqual(all.get(p.name)!.shape, p.shape);
  assert.deepEqual(prompt.get("prompt")!.shape, [4, 24]);
});

test("the local step's loss is the cross-entropy of the local logits", async () => {
  const b = PartitionBundle.load(fixture.dir);
  try {
    const { prompt, tail } = b.initialParams();
    const params = joinParams(prompt, tail);
    const x = b.inputsOf(batch);
    const step = await b.localStep(x, batch.labels, params);
    const logits = await b.localLogits(x, params);
    const ce = softmaxCrossEntropy({ data: logits.data, shape: logits.dims }, batch.labels);
    assert.ok(Math.abs(step.loss - ce.loss) < 1e-5, `${step.loss} vs ${ce.loss}`);
    assert.deepEqual([...step.grads.keys()], [...params.keys()]);
  } finally {
    await b.release();
  }
});

test("the body backward gives the same ∂L/∂a_h recomputed or from saved activations", async () => {
  const b = PartitionBundle.load(fixture.dir);
  try {
    const { prompt, tail } = b.initialParams();
    const h = await b.headForward(b.inputsOf(batch), prompt);
    const saved = await b.bodyForwardSaving(h);
    const plain = await b.bodyForward(h);
    assert.deepEqual(saved.output.dims, plain.dims);
    const t = await b.tailStep(plain, batch.labels, tail);
    const g1 = await b.bodyBackward(h, t.gradInput);
    const g2 = await b.bodyBackwardSaved(saved.saved, t.gradInput);
    assert.deepEqual(g1.dims, h.dims);
    g1.data.forEach((v, i) => assert.ok(Math.abs(v - g2.data[i]!) < 1e-6));
    assert.ok(g1.data.some((v) => v !== 0));
    const gp = await b.headBackward(b.inputsOf(batch), prompt, g1);
    assert.deepEqual(gp.get("prompt")!.shape, [4, 24]);
  } finally {
    await b.release();
  }
});

test("the run queue batches what arrives while a run is in flight", async () => {
  const runs: number[][] = [];
  let started!: () => void;
  const firstStarted = new Promise<void>((r) => (started = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new RunQueue<number, number>({
    run: async (items) => {
      runs.push([...items]);
      started();
      await gate;
      return items.map((i) => i * 2);
    },
  });
  const first = [q.submit(1), q.submit(2)];
  await firstStarted;
  const later = [q.submit(3), q.submit(4), q.submit(5)];
  release();
  assert.deepEqual(await Promise.all([...first, ...later]), [2, 4, 6, 8, 10]);
  assert.deepEqual(runs, [
    [1, 2],
    [3, 4, 5],
  ]);
});

test("the activation stash evicts its oldest entries beyond its bound and a backward consumes its entry", () => {
  const stash = new ActivationStash(2);
  for (let step = 0; step < 3; step++) stash.put(stashKey("client-0", 1, step), { batch: 1, tensors: {} });
  assert.equal(stash.size, 2);
  assert.equal(stash.evicted, 1);
  assert.equal(stash.take(stashKey("client-0", 1, 0)), undefined);
  assert.ok(stash.take(stashKey("client-0", 1, 2)) !== undefined);
  assert.equal(stash.take(stashKey("client-0", 1, 2)), undefined);
});
