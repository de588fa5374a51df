// An upload must carry exactly the global model's tensors, each with its shape: against a real
// nats-server and server, an upload whose tensor is transposed (same element count) or that carries
// a tensor the model does not have is refused with a bad-shape reply, at once (no retries), and
// adds nothing to the round's FedAvg; the same client's upload of the right layout is then accepted.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FrameShapeError,
  jobSubjects,
  openArtifactStore,
  checkpointObjectName,
  requestFrame,
  type DecodedFrame,
  type OutgoingTensor,
  type RetryInfo,
} from "@sfprompt/protocol";
import { PartitionBundle, decodeParamSet, joinParams, startServer, type ParamSet } from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";

const w = natsAndBundleHooks();

function ask(
  config: RunConfig,
  subject: string,
  init: Record<string, unknown>,
  step: number,
  onRetry?: (r: RetryInfo) => void,
): Promise<DecodedFrame> {
  const frame = { kind: "control", round: 0, ...init, job: config.names.job, client: "client-0", step };
  return requestFrame(w.nats.nc, subject, frame as never, {
    timeoutMs: 5000,
    ...(onRetry === undefined ? {} : { onRetry }),
  });
}

/** Values i·0.001 + offset, so the checkpoint tells which upload it averaged. */
function valuesLike(layout: ParamSet, offset: number): OutgoingTensor[] {
  return [...layout].map(([name, t]) => ({
    name,
    dtype: "float32" as const,
    shape: [...t.shape],
    data: Float32Array.from(t.data, (_, i) => i * 0.001 + offset),
  }));
}

const cases: { name: string; change: (tensors: OutgoingTensor[], at: number) => OutgoingTensor[] }[] = [
  {
    name: "a tensor transposed (same element count)",
    change: (ts, at) => ts.map((t, i) => (i === at ? { ...t, shape: [...t.shape].reverse() } : t)),
  },
  {
    name: "a tensor the model does not have, besides all of its own",
    change: (ts) => [...ts, { name: "extra", dtype: "float32", shape: [2], data: new Float32Array(2) }],
  },
];

test("an upload of another layout is refused as bad-shape without retries, and the round averages only the right one", async () => {
  const config = jobConfig({
    method: "fl-prompt",
    clients: { count: 1, perRound: { count: 1 } },
    training: { rounds: 1, quorum: { count: 1 } },
  });
  const server = await startServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    pollWaitMs: 1000,
    lingerMs: 100,
  });
  const local = PartitionBundle.load(w.bundle.dir);
  try {
    const s = jobSubjects(config.names.job);
    const layout = joinParams(local.initialParams().prompt, local.initialParams().tail);
    const at = [...layout.values()].findIndex((t) => t.shape.length >= 2 && t.shape[0] !== t.shape.at(-1));
    assert.ok(at >= 0, "the fixture's model has a 2-D parameter that a transpose changes");
    const poll = await ask(config, s.roundReport, { meta: { op: "poll", lastRound: 0 } }, 1);
    assert.equal(poll.header.meta["action"], "train");
    await ask(config, s.paramsGlobal, { round: 1, meta: { round: 1 } }, 2);
    const meta = { round: 1, samples: 10, kept: 10, loss: 1, flops: 0 };
    let step = 3;
    for (const c of cases) {
      const retries: RetryInfo[] = [];
      const tensors = c.change(valuesLike(layout, 5), at);
      await assert.rejects(
        ask(config, s.paramsUpload, { kind: "parameters", round: 1, meta, tensors }, step++, (r) =>
          retries.push(r),
        ),
        (e: unknown) => {
          assert.ok(e instanceof FrameShapeError && e.remote, `${c.name}: ${String(e)}`);
          return true;
        },
        c.name,
      );
      assert.deepEqual(retries, [], `${c.name}: sent once`);
    }
    const good = valuesLike(layout, 1);
    const up = await ask(
      config,
      s.paramsUpload,
      { kind: "parameters", round: 1, meta, tensors: good },
      step++,
    );
    assert.equal(up.header.meta["accepted"], true);
    await server.done;
    const store = await openArtifactStore(w.nats.nc, config.names.job);
    const ckpt = decodeParamSet((await store.get(checkpointObjectName(1)))!);
    assert.deepEqual([...ckpt.keys()], [...layout.keys()]);
    for (const t of good) assert.deepEqual(ckpt.get(t.name)!.data, t.data, t.name);
  } finally {
    await local.release();
    await server.stop();
  }
});
