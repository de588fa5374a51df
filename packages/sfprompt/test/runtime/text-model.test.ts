// Text (BERT-family) models through the runtime: token batches become input_ids + an attention mask
// from the padding; the body gets the mask with a_h, in process and over a real nats-server, and both
// train to the same parameters; padding changes nothing the model predicts; concurrent forwards share
// session runs with their masks; a mask of the wrong length gets an error reply naming it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareBundle } from "@sfprompt/engine";
import { FrameShapeError, TrafficLedger, jobSubjects, requestFrame } from "@sfprompt/protocol";
import {
  PartitionBundle,
  bundleFlops,
  gatherBatch,
  joinParams,
  localBody,
  parseJsonlTokens,
  remoteBody,
  silentLogger,
  startBodyService,
  trainRound,
  type BodyLink,
  type Dataset,
} from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { assertBatchedLikeOneByOne } from "./batched-forwards.js";
import { jobConfig, natsFixture, type NatsFixture } from "./job-fixture.js";
import { BERT_FIXTURE as BERT } from "./text-fixture.js";

const PROMPTS = 3;
const SEQ = 8;

let dir: string;
let nats: NatsFixture;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sfprompt-text-"));
  prepareBundle({
    model: BERT,
    out: dir,
    headBlocks: 1,
    promptLength: PROMPTS,
    pooling: "mean",
    numClasses: 3,
    seed: 1,
  });
  nats = await natsFixture();
});
after(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The job's body service on the test's nats-server, with the bundle it serves. */
async function bodyService(config: RunConfig) {
  const bundle = PartitionBundle.load(dir, { logger: silentLogger, sequenceLength: SEQ });
  const service = await startBodyService({
    nc: nats.nc,
    config,
    bundle,
    ledger: new TrafficLedger(),
    logger: silentLogger,
    isKnownClient: () => true,
  });
  return { bundle, service };
}

/** 24 sentences of 2..7 ids in 5..99 (0 is [PAD]); the label is the sentence's first id mod 3. */
function sentences(seqLen = SEQ): Dataset<BigInt64Array> {
  const lines: string[] = [];
  for (let i = 0; i < 24; i++) {
    const len = 2 + (i % 6);
    const ids = Array.from({ length: len }, (_, j) => 5 + ((i * 7 + j * 13) % 95));
    lines.push(JSON.stringify({ ids, label: ids[0]! % 3 }));
  }
  return parseJsonlTokens(lines.join("\n"), "sentences", {
    seqLen,
    dtype: "int64",
    classNames: ["a", "b", "c"],
  });
}

test("a token batch feeds input_ids, an attention mask that is 0 exactly on padding, and zero token types", () => {
  const bundle = PartitionBundle.load(dir, { logger: silentLogger, sequenceLength: SEQ });
  assert.equal(bundle.isText, true);
  assert.deepEqual(bundle.bodyMasks, ["attention_mask"]);
  const data = sentences();
  const x = bundle.inputsOf(gatherBatch(data, [0, 5]));
  const ids = x["input_ids"]!.data as BigInt64Array;
  const mask = x["attention_mask"]!.data as BigInt64Array;
  assert.deepEqual(x["input_ids"]!.dims, [2, SEQ]);
  for (let i = 0; i < ids.length; i++) assert.equal(mask[i], ids[i] === 0n ? 0n : 1n);
  assert.equal(mask.filter((m) => m === 0n).length, SEQ - 2 + (SEQ - 7)); // lengths 2 and 7
  assert.ok((x["token_type_ids"]!.data as BigInt64Array).every((t) => t === 0n));
  assert.deepEqual(Object.keys(bundle.masksOf(x)), ["attention_mask"]);
  assert.throws(() => bundle.input, /takes token ids \(input_ids\), not images/);
});

test("padding changes no prediction: the same sentences padded to 8 and to 12 tokens give the same logits", async () => {
  const bundle = PartitionBundle.load(dir, { logger: silentLogger, sequenceLength: SEQ });
  const { prompt, tail } = bundle.initialParams();
  const rows = [0, 1, 2, 3, 4, 5];
  const a = await bundle.predict(bundle.inputsOf(gatherBatch(sentences(SEQ), rows)), prompt, tail);
  const b = await bundle.predict(bundle.inputsOf(gatherBatch(sentences(12), rows)), prompt, tail);
  assert.equal(a.data.length, 6 * 3);
  for (let i = 0; i < a.data.length; i++) assert.ok(Math.abs(a.data[i]! - b.data[i]!) < 1e-5, `logit ${i}`);
  await bundle.release();
});

test("a round of split training over NATS (mask sent with a_h) ends at the parameters of the in-process body", async () => {
  const config = jobConfig({
    prompts: { length: PROMPTS },
    classes: { numClasses: 3 },
    training: { batchSize: 8, optimizer: { name: "sgd", learningRate: 0.1 }, pruning: { gamma: 0.5 } },
  });
  const { bundle, service } = await bodyService(config);
  try {
    const init = bundle.initialParams();
    const global = joinParams(init.prompt, init.tail);
    let step = 0;
    const ledger = new TrafficLedger();
    const links: Record<string, BodyLink> = {
      local: { ...localBody(bundle), local: false },
      nats: remoteBody({
        nc: nats.nc,
        job: config.names.job,
        client: "client-0",
        headOutput: bundle.headOutput,
        bodyOutput: bundle.bodyOutput,
        codecs: { activationsUp: "f32", gradientsUp: "f32" },
        ledger,
        timeoutMs: 10_000,
        nextStep: () => ++step,
      }),
    };
    const out: Record<string, Map<string, { data: Float32Array }>> = {};
    for (const [name, body] of Object.entries(links)) {
      const u = await trainRound(
        {
          bundle,
          config,
          clientIndex: 0,
          data: sentences(),
          body,
          flops: bundleFlops(bundle),
          logger: silentLogger,
        },
        1,
        global,
      );
      assert.equal(u.samples, 24);
      out[name] = u.params;
    }
    for (const [name, p] of out["local"]!) {
      const q = out["nats"]!.get(name)!.data;
      const moved = p.data.some((v, i) => v !== global.get(name)!.data[i]);
      assert.ok(moved, `${name} was trained`);
      for (let i = 0; i < p.data.length; i++) assert.ok(Math.abs(p.data[i]! - q[i]!) < 1e-5, `${name}[${i}]`);
    }
    // every forward carried the mask: the 12 kept samples sent a_h [8 + 3, 32] f32 and mask [8] int64
    // each, plus one header per message
    const fwd = ledger.snapshot().entries.filter((e) => e.kind === "activation" && e.direction === "sent");
    const bytes = fwd.reduce((n, e) => n + e.bytes, 0);
    const messages = fwd.reduce((n, e) => n + e.messages, 0);
    const payload = 12 * ((SEQ + PROMPTS) * 32 * 4 + SEQ * 8);
    assert.equal(messages, 2);
    assert.ok(
      bytes >= payload && bytes - payload < messages * 512,
      `${bytes} bytes for ${payload} of payload`,
    );
  } finally {
    await service.stop();
    await bundle.release();
  }
});

test("a forward whose mask does not fit a_h gets an error reply that names the mask", async () => {
  const config = jobConfig({ prompts: { length: PROMPTS }, classes: { numClasses: 3 } });
  const { bundle, service } = await bodyService(config);
  try {
    const frame = (maskTokens: number) => ({
      kind: "activation" as const,
      job: config.names.job,
      client: "client-0",
      round: 1,
      step: maskTokens,
      tensors: [
        {
          name: bundle.headOutput,
          dtype: "float32" as const,
          shape: [2, SEQ + PROMPTS, 32],
          data: new Float32Array(2 * (SEQ + PROMPTS) * 32),
        },
        {
          name: "attention_mask",
          dtype: "int64" as const,
          shape: [2, maskTokens],
          data: new BigInt64Array(2 * maskTokens).fill(1n),
        },
      ],
    });
    const subject = jobSubjects(config.names.job).bodyForward;
    await assert.rejects(
      requestFrame(nats.nc, subject, frame(SEQ + PROMPTS), { timeoutMs: 5000 }),
      (e: unknown) => e instanceof FrameShapeError && e.remote && /attention_mask/.test(e.message),
    );
    const ok = await requestFrame(nats.nc, subject, frame(SEQ), { timeoutMs: 5000 });
    assert.deepEqual(ok.tensors[0]!.shape, [2, 32]);
  } finally {
    await service.stop();
    await bundle.release();
  }
});

test("concurrent text forwards from three clients share session runs, masks concatenated with a_h, and match one-by-one results", async () => {
  const config = jobConfig({ prompts: { length: PROMPTS }, classes: { numClasses: 3 } });
  const { bundle, service } = await bodyService(config);
  try {
    const { prompt } = bundle.initialParams();
    const data = sentences();
    // batches of different sizes and padding: rows [0..b) of a rotating window
    const xs = [3, 5, 2, 4, 1, 6].map((b, i) =>
      bundle.inputsOf(
        gatherBatch(
          data,
          Array.from({ length: b }, (_, k) => (i * 4 + k) % 24),
        ),
      ),
    );
    const heads = await Promise.all(xs.map((x) => bundle.headForward(x, prompt)));
    const subject = jobSubjects(config.names.job).bodyForward;
    const replies = await Promise.all(
      heads.map((h, i) => {
        const mask = xs[i]!["attention_mask"]!;
        return requestFrame(
          nats.nc,
          subject,
          {
            kind: "activation",
            job: config.names.job,
            client: `client-${i % 3}`,
            round: 1,
            step: 100 + i,
            tensors: [
              { name: bundle.headOutput, dtype: "float32", shape: h.dims, data: h.data },
              { name: "attention_mask", dtype: "int64", shape: mask.dims, data: mask.data as BigInt64Array },
            ],
          },
          { timeoutMs: 5000 },
        );
      }),
    );
    await assertBatchedLikeOneByOne(
      replies,
      bundle.bodyOutput,
      (i) => bundle.bodyForward(heads[i]!, bundle.masksOf(xs[i]!)),
      service.groupSizes.forward,
    );
  } finally {
    await service.stop();
    await bundle.release();
  }
});
