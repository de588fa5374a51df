// The server's services against a real nats-server, driven by hand-made frames: a malformed frame
// gets an error reply and is counted, FedAvg of two uploads is their |D_k|-weighted mean (read back
// from the checkpoint in the Object Store), concurrent body requests share session runs, and a
// server told not to resume removes older checkpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FrameShapeError,
  TrafficLedger,
  checkpointObjectName,
  jobSubjects,
  openArtifactStore,
  parseChunk,
  requestFrame,
  type DecodedFrame,
} from "@sfprompt/protocol";
import {
  PartitionBundle,
  decodeParamSet,
  joinParams,
  startServer,
  writeCheckpoint,
  type ParamSet,
} from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { assertBatchedLikeOneByOne } from "./batched-forwards.js";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";

const w = natsAndBundleHooks();

function ask(
  config: RunConfig,
  client: string,
  subject: string,
  init: Record<string, unknown>,
  step: number,
): Promise<DecodedFrame> {
  return requestFrame(
    w.nats.nc,
    subject,
    { kind: "control", round: 0, ...init, job: config.names.job, client, step } as never,
    { timeoutMs: 5000 },
  );
}

test("a malformed frame on the body subject gets an error reply and is counted; so does a wrong shape", async () => {
  const config = jobConfig();
  const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, pollWaitMs: 200 });
  try {
    const subjects = jobSubjects(config.names.job);
    const garbage = new TextEncoder().encode("this is not a frame");
    const reply = await w.nats.nc.request(subjects.bodyForward, garbage, { timeout: 5000 });
    const chunk = parseChunk(reply.data);
    assert.equal(chunk.header.type, "error");
    assert.equal(chunk.header.meta["code"], "bad-header");
    const wrong = {
      name: PartitionBundle.load(w.bundle.dir).headOutput,
      dtype: "float32" as const,
      shape: [2, 5, 5],
      data: new Float32Array(50),
    };
    await assert.rejects(
      requestFrame(
        w.nats.nc,
        subjects.bodyForward,
        {
          kind: "activation",
          job: config.names.job,
          client: "client-0",
          round: 1,
          step: 1,
          tensors: [wrong],
        },
        { timeoutMs: 5000 },
      ),
      (e: unknown) => e instanceof FrameShapeError && e.remote,
    );
    const stats = server.stats();
    assert.equal(stats.badFrames["bad-header"], 1);
    assert.equal(stats.badFrames["bad-shape"], 1);
    const invalid = stats.traffic.entries.filter((e) => e.kind === "invalid");
    assert.deepEqual(
      invalid.map((e) => [e.direction, e.bytes]),
      [["received", garbage.length]],
    );
  } finally {
    await server.stop();
  }
});

function randomLike(layout: ParamSet, seed: number): ParamSet {
  let s = seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return new Map(
    [...layout].map(([n, t]) => [n, { data: Float32Array.from(t.data, () => next()), shape: [...t.shape] }]),
  );
}

test("FedAvg of two uploads is their mean weighted by |D_k|, as checkpointed", async () => {
  const config = jobConfig({
    method: "fl-prompt",
    clients: { count: 2, perRound: { count: 2 } },
    training: { rounds: 1 },
  });
  const server = await startServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    pollWaitMs: 1000,
    lingerMs: 100,
  });
  const s = jobSubjects(config.names.job);
  const weights = [10, 30];
  const local = PartitionBundle.load(w.bundle.dir);
  const layout = joinParams(local.initialParams().prompt, local.initialParams().tail);
  const uploads = weights.map((_, i) => randomLike(layout, 17 + i));
  await Promise.all(
    weights.map(async (samples, i) => {
      const client = `client-${i}`;
      const poll = await ask(config, client, s.roundReport, { meta: { op: "poll", lastRound: 0 } }, 1);
      assert.equal(poll.header.meta["action"], "train");
      const global = await ask(config, client, s.paramsGlobal, { round: 1, meta: { round: 1 } }, 2);
      assert.deepEqual(
        global.tensors.map((t) => t.name),
        [...layout.keys()],
      );
      const tensors = [...uploads[i]!].map(([name, t]) => ({
        name,
        dtype: "float32" as const,
        shape: t.shape,
        data: t.data,
      }));
      const meta = { round: 1, samples, kept: samples, loss: 1, flops: 0 };
      const up = await ask(
        config,
        client,
        s.paramsUpload,
        { kind: "parameters", round: 1, meta, tensors },
        3,
      );
      assert.equal(up.header.meta["accepted"], true);
    }),
  );
  const result = await server.done;
  const store = await openArtifactStore(w.nats.nc, config.names.job);
  const ckpt = decodeParamSet((await store.get(checkpointObjectName(1)))!);
  for (const [name, t] of ckpt) {
    const a = uploads[0]!.get(name)!.data;
    const b = uploads[1]!.get(name)!.data;
    t.data.forEach((v, k) => assert.ok(Math.abs(v - (10 * a[k]! + 30 * b[k]!) / 40) < 1e-6, `${name}[${k}]`));
  }
  assert.deepEqual([...result.global.keys()], [...layout.keys()]);
  await local.release();
});

test("concurrent body forwards from three clients share session runs and match one-by-one results", async () => {
  const config = jobConfig();
  const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, pollWaitMs: 200 });
  const local = PartitionBundle.load(w.bundle.dir);
  try {
    const s = jobSubjects(config.names.job);
    const { prompt } = local.initialParams();
    const inputs = [3, 5, 2, 4, 1, 6].map((b, i) => ({
      pixel_values: {
        dtype: "float32" as const,
        dims: [b, 1, 28, 28],
        data: Float32Array.from({ length: b * 784 }, (_, k) => ((k * (i + 3)) % 97) / 97),
      },
    }));
    const heads = await Promise.all(inputs.map((x) => local.headForward(x, prompt)));
    const ledger = new TrafficLedger();
    const replies = await Promise.all(
      heads.map((h, i) =>
        requestFrame(
          w.nats.nc,
          s.bodyForward,
          {
            kind: "activation",
            job: config.names.job,
            client: `client-${i % 3}`,
            round: 1,
            step: 7 + i,
            tensors: [{ name: local.headOutput, dtype: "float32", shape: h.dims, data: h.data }],
          },
          { ledger, timeoutMs: 5000 },
        ),
      ),
    );
    await assertBatchedLikeOneByOne(
      replies,
      local.bodyOutput,
      (i) => local.bodyForward(heads[i]!),
      server.stats().bodyGroups!.forward,
    );
  } finally {
    await local.release();
    await server.stop();
  }
});

test("a server with output.resume false removes the job's older checkpoints instead of resuming", async () => {
  const config = jobConfig({ output: { resume: false } });
  const store = await openArtifactStore(w.nats.nc, config.names.job);
  const local = PartitionBundle.load(w.bundle.dir);
  const layout = joinParams(local.initialParams().prompt, local.initialParams().tail);
  await writeCheckpoint(store, randomLike(layout, 3), {
    job: config.names.job,
    method: "sfprompt",
    round: 5,
    history: [],
  });
  assert.deepEqual(await store.names(), [checkpointObjectName(5)]);
  const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, pollWaitMs: 200 });
  try {
    const deadline = Date.now() + 5000;
    // the job's owner marker stays (ADR 0045, second amendment): only checkpoints go
    while ((await store.checkpointNames()).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await store.checkpointNames(), []);
  } finally {
    await server.stop();
    await local.release();
  }
});
