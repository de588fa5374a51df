// The traffic planner against the runtime: real 2-client, 2-round jobs of every networked method on a
// real nats-server with a small max_payload (so activations and parameters are chunked and acked) and
// mixed codecs; the server's byte ledger must equal the plan per round, kind and direction. Two
// differences are allowed, each checked exactly: "wait" polls (timing decides how many) and the digits
// of the upload's loss and FLOPs numbers (UPLOAD_META_PLACEHOLDERS).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { FRAME_KINDS, type TrafficSnapshot } from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import type { RunConfig } from "@sfprompt/api";
import { readPartitionManifest } from "@sfprompt/engine";
import {
  ExchangeSizer,
  PartitionBundle,
  datasetSize,
  emptyByKind,
  partitionForJob,
  planMethodTraffic,
  pollExchange,
  prepareWholeModel,
  runClient,
  runServer,
  roundExchanges,
  trafficShapesOfManifest,
  trafficShapesOfModel,
  wholeModelGlobal,
  wholeModelTrainer,
  type ClientResult,
  type TrafficByKind,
  type TrafficShapes,
} from "@sfprompt/core";
import { fashionSubsets, tinyBundle, type BundleFixture } from "../runtime/bundle-fixture.js";
import { jobConfig } from "../runtime/job-fixture.js";

const MAX_PAYLOAD = 8192;
/** Bytes one upload message may differ by: loss, localLoss and FLOPs as JSON numbers of other lengths. */
const UPLOAD_META_SLACK = 12;

let nats: TestNats;
let nc: NatsConnection;
let bundle: BundleFixture;
let shapes: TrafficShapes;

before(async () => {
  nats = await startNatsServer({ maxPayload: MAX_PAYLOAD });
  nc = await connect({ servers: nats.url });
  bundle = tinyBundle({ headBlocks: 1, promptLength: 4 });
  // the CLI's path: split the source model as the job says (tinyBundle's options)
  shapes = trafficShapesOfModel(bundle.model, { headBlocks: 1, promptLength: 4, numClasses: 10, seed: 3 });
});

test("the shapes of the split model are the prepared bundle's shapes", () => {
  const manifest = readPartitionManifest(bundle.dir);
  assert.deepEqual(trafficShapesOfManifest(manifest, shapes.wholeModel), shapes);
  assert.deepEqual(shapes.headOutput.shape, [21, 24], "CLS + 16 patches + 4 prompt tokens, width 24");
  assert.deepEqual(shapes.bodyOutput.shape, [24], "the pooled vector");
});
after(async () => {
  await nc.close();
  await nats.stop();
  bundle.remove();
});

function config(method: string): RunConfig {
  return jobConfig({
    method,
    clients: { count: 2, perRound: { count: 2 } },
    training: { rounds: 2, quorum: { count: 2 }, evaluation: { everyRounds: 0 } },
    transport: { maxPayload: MAX_PAYLOAD },
    compression: { activationsUp: "f16", gradientsUp: "bf16", gradientsDown: "int8", parametersUp: "f16" },
  });
}

/** Runs the job's server and clients in this process and returns the server's ledger. */
async function runJob(
  c: RunConfig,
): Promise<{ traffic: TrafficSnapshot; samples: number[]; badFrames: object }> {
  // 80 samples: 40 per client, so SFPrompt keeps 20 (a batch of 16 and one of 4) and SFL + prompt
  // sends 16 + 16 + 8: full and partial batches, chunked and not
  const { train } = await fashionSubsets(8);
  const shards = partitionForJob(train, c.data.partitioning, c.clients.count);
  const probe = PartitionBundle.load(bundle.dir);
  const whole = c.method === "fl-full" ? prepareWholeModel(bundle.model, probe.manifest) : undefined;
  const clients: Promise<ClientResult>[] = shards.map((data, i) =>
    runClient(c, i, {
      nc,
      bundle: bundle.dir,
      data,
      ...(whole ? { trainer: wholeModelTrainer(whole) } : {}),
    }),
  );
  const globalModel = whole ? await wholeModelGlobal(whole, probe) : undefined;
  try {
    const server = await runServer(c, {
      nc,
      bundle: probe,
      pollWaitMs: 500,
      lingerMs: 500,
      ...(globalModel ? { globalModel } : {}),
    });
    await Promise.all(clients);
    return { traffic: server.traffic, samples: shards.map(datasetSize), badFrames: server.badFrames };
  } finally {
    await globalModel?.release();
    await probe.release();
  }
}

function measuredByRound(snapshot: TrafficSnapshot): Map<number, TrafficByKind> {
  const out = new Map<number, TrafficByKind>();
  for (const e of snapshot.entries) {
    assert.notEqual(e.kind, "invalid", "no message the server could not read");
    if (e.kind === "invalid") continue;
    const t = out.get(e.round) ?? emptyByKind();
    out.set(e.round, t);
    const k = t[e.kind];
    // the server's "received" is the client's upload
    if (e.direction === "received") {
      k.up += e.bytes;
      k.upMessages += e.messages;
    } else {
      k.down += e.bytes;
      k.downMessages += e.messages;
    }
  }
  return out;
}

/** Compares one round (or the after-last-round polls) kind by kind; returns the wait polls found. */
function compareRound(
  c: RunConfig,
  label: string,
  planned: TrafficByKind,
  got: TrafficByKind,
  waitPoll: { up: number; down: number },
): number {
  for (const kind of FRAME_KINDS) {
    const p = planned[kind];
    const m = got[kind];
    const where = `${c.method} ${label} ${kind}`;
    if (kind === "control") {
      const waits = m.upMessages - p.upMessages;
      assert.ok(
        waits >= 0,
        `${where}: ${m.upMessages} control requests, fewer than the ${p.upMessages} planned`,
      );
      assert.equal(m.downMessages - p.downMessages, waits, `${where}: every extra poll got one reply`);
      assert.equal(m.up, p.up + waits * waitPoll.up, `${where} up: the plan plus ${waits} wait polls`);
      assert.equal(
        m.down,
        p.down + waits * waitPoll.down,
        `${where} down: the plan plus ${waits} wait replies`,
      );
      continue;
    }
    assert.equal(m.upMessages, p.upMessages, `${where}: messages up`);
    assert.equal(m.downMessages, p.downMessages, `${where}: messages down`);
    assert.equal(m.down, p.down, `${where}: bytes down`);
    if (kind === "parameters") {
      const slack = UPLOAD_META_SLACK * p.upMessages;
      assert.ok(Math.abs(m.up - p.up) <= slack, `${where}: bytes up ${m.up} vs planned ${p.up} (± ${slack})`);
    } else {
      assert.equal(m.up, p.up, `${where}: bytes up`);
    }
  }
  return got.control.upMessages - planned.control.upMessages;
}

const cases = [
  { method: "sfprompt", name: "SFPrompt (local loss, EL2N pruning, prompt gradient over the network)" },
  { method: "sfl-prompt", name: "SFL + prompt (every sample through the body, both directions)" },
  { method: "fl-prompt", name: "FL + prompt (only prompt + tail cross the network)" },
  { method: "fl-full", name: "FL full fine-tuning (every weight, chunked, both ways)" },
];

for (const { method, name } of cases) {
  test(`the planned bytes of ${name} are the bytes the server counted, per round, kind and direction`, async () => {
    const c = config(method);
    const run = await runJob(c);
    assert.deepEqual(run.badFrames, {}, "no error replies");
    const plan = planMethodTraffic({
      config: c,
      shapes,
      samplesPerClient: run.samples,
      maxPayload: MAX_PAYLOAD,
    });
    const sizer = new ExchangeSizer(MAX_PAYLOAD);
    const measured = measuredByRound(run.traffic);
    assert.deepEqual(
      [...measured.keys()].sort(),
      [1, 2, 3],
      "rounds 1 and 2, and the final polls keyed round 3",
    );
    for (const r of plan.rounds) {
      const wait = sizer.size(pollExchange(c, "client-0", r.round - 1, { action: "wait" }));
      compareRound(c, `round ${r.round}`, r.byKind, measured.get(r.round)!, {
        up: wait.up[0]!.bytes,
        down: wait.down[0]!.bytes,
      });
    }
    const wait = sizer.size(pollExchange(c, "client-0", 2, { action: "wait" }));
    compareRound(c, "after the last round", plan.afterLastRound.byKind, measured.get(3)!, {
      up: wait.up[0]!.bytes,
      down: wait.down[0]!.bytes,
    });
    if (method !== "fl-prompt") {
      // the big frames went in several messages each (so chunk headers and acks were compared too)
      const kind = method === "fl-full" ? "parameters" : "activation";
      const frames = run.samples
        .flatMap((n, i) => roundExchanges(c, shapes, `client-${i}`, 1, n))
        .filter((x) => x.request.kind === kind)
        .reduce((sum, x) => sum + x.times, 0);
      assert.ok(measured.get(1)![kind].upMessages > frames, `${kind} frames were chunked`);
    }
  });
}
