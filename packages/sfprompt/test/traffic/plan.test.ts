// The traffic planner's arithmetic on the tiny ViT's real shapes: codecs change exactly the payload
// bytes they should, chunks fill max_payload and are acked, the break-even is where the costs cross,
// and bad inputs name their field.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import type { Method, RunConfig } from "@sfprompt/api";
import {
  ExchangeSizer,
  TrafficPlanError,
  breakEven,
  keptSamples,
  methodRunConfig,
  planMethodTraffic,
  roundExchanges,
  selectedClients,
  trafficShapesOfModel,
  type TrafficShapes,
} from "@sfprompt/core";
import { applyDefaults } from "@sfprompt/api";
import { tinyVit } from "../runtime/tiny-vit.js";
import { jobConfig } from "../runtime/job-fixture.js";

let shapes: TrafficShapes;
before(() => {
  shapes = trafficShapesOfModel(tinyVit(), { headBlocks: 1, promptLength: 4, numClasses: 10, seed: 3 });
});

const SAMPLES = [40, 37];

function sfprompt(activations: string, maxPayload = 1 << 20): RunConfig {
  const codec = { activationsUp: activations, activationsDown: activations };
  return jobConfig(
    {
      clients: { count: 2, perRound: { count: 2 } },
      compression: { ...codec, gradientsUp: activations, gradientsDown: activations },
      transport: { maxPayload },
    },
    "traffic-plan",
  );
}

/** Elements and rows (last-dimension vectors) of the activations and gradients of one round. */
function splitElements(c: RunConfig): { elements: number; rows: number } {
  const h = shapes.headOutput.shape;
  const b = shapes.bodyOutput.shape;
  const perSample = h.reduce((x, y) => x * y, 1) + b.reduce((x, y) => x * y, 1);
  const rowsPerSample = h.reduce((x, y) => x * y, 1) / h.at(-1)! + b.reduce((x, y) => x * y, 1) / b.at(-1)!;
  const kept = SAMPLES.reduce((n, s) => n + keptSamples(c, s), 0);
  // forward and backward carry the same shapes: twice per kept sample
  return { elements: 2 * kept * perSample, rows: 2 * kept * rowsPerSample };
}

function splitBytes(c: RunConfig): number {
  const r = planMethodTraffic({ config: c, shapes, samplesPerClient: SAMPLES }).rounds[0]!;
  return r.byKind.activation.up + r.byKind.activation.down + r.byKind.gradient.up + r.byKind.gradient.down;
}

const codecCases = [
  { codec: "f16", name: "f16 saves exactly 2 bytes per element", saved: (e: number) => 2 * e },
  { codec: "bf16", name: "bf16 saves exactly 2 bytes per element", saved: (e: number) => 2 * e },
  {
    codec: "int8",
    name: "int8 saves 3 bytes per element less a 4-byte scale per row",
    saved: (e: number, rows: number) => 3 * e - 4 * rows,
  },
];
for (const { codec, name, saved } of codecCases) {
  test(`activation codecs: ${name} against f32 (headers unchanged)`, () => {
    const { elements, rows } = splitElements(sfprompt("f32"));
    assert.equal(splitBytes(sfprompt("f32")) - splitBytes(sfprompt(codec)), saved(elements, rows));
  });
}

test("a frame above max_payload goes in full chunks of max_payload bytes, each but the last acked", () => {
  const maxPayload = 4096;
  const c = sfprompt("f32", maxPayload);
  const sizer = new ExchangeSizer(maxPayload);
  const forward = roundExchanges(c, shapes, "client-0", 1, 40).find((x) => x.request.kind === "activation")!;
  const sized = sizer.size(forward);
  const up = sized.up[0]!;
  const payload = forward.request.tensors[0]!.shape.reduce((a, b) => a * b, 4);
  assert.ok(up.messages > 1, `a ${payload}-byte activation is chunked at ${maxPayload}`);
  assert.ok(up.bytes > (up.messages - 1) * maxPayload && up.bytes <= up.messages * maxPayload);
  assert.ok(up.bytes > payload, "every chunk repeats the header");
  const acks = sized.down.find((d) => d.kind === "activation" && d !== sized.down[0]);
  assert.equal(acks?.messages, up.messages - 1);
});

test("the break-even is the largest sample count for which SFPrompt's round costs less than FL full's", () => {
  const job = applyDefaults({
    apiVersion: "sfprompt.io/v1alpha1",
    kind: "SFPromptJob",
    metadata: { name: "break-even" },
    spec: {
      model: { source: { builtin: "demo" } },
      data: { source: { builtin: "mnist" } },
      clients: { count: 2 },
      prompts: { length: 4 },
      training: { batchSize: 8 },
    },
  });
  const sizer = new ExchangeSizer(job.spec.transport.maxPayload);
  const be = breakEven(job, shapes, sizer);
  assert.ok(be.samplesPerClient > 0);
  assert.ok(be.sfpromptPerRound < be.flFullPerRound);
  const next = breakEven(job, shapes, sizer);
  assert.deepEqual(next, be, "deterministic");
  const one = structuredClone(job);
  one.spec.training.rounds = 1;
  const cfg = (m: string): RunConfig => methodRunConfig(one, m as Method);
  const cost = (m: string, n: number): number =>
    planMethodTraffic({ config: cfg(m), shapes, samplesPerClient: [n, n], sizer }).total;
  assert.ok(cost("sfprompt", be.samplesPerClient) < cost("fl-full", be.samplesPerClient));
  assert.ok(cost("sfprompt", be.samplesPerClient + 1) >= cost("fl-full", be.samplesPerClient + 1));
  assert.equal(be.keptPerClient, keptSamples(cfg("sfprompt"), be.samplesPerClient));
});

test("a sample count per client that does not match the clients names the field", () => {
  assert.throws(
    () => planMethodTraffic({ config: sfprompt("f32"), shapes, samplesPerClient: [10] }),
    (e: unknown) =>
      e instanceof TrafficPlanError && e.field === "samplesPerClient" && /2 clients/.test(e.message),
  );
});

test("with clients.perRound below the count, each round selects that many distinct clients, the same every time", () => {
  const c = jobConfig({ clients: { count: 5, perRound: { count: 2 } } }, "select");
  const rounds = [1, 2, 3, 4].map((r) => selectedClients(c, r));
  for (const s of rounds) {
    assert.equal(new Set(s).size, 2);
    assert.deepEqual(s, [...s].sort());
  }
  assert.deepEqual(
    [1, 2, 3, 4].map((r) => selectedClients(c, r)),
    rounds,
  );
  const plan = planMethodTraffic({ config: c, shapes, samplesPerClient: [30, 30, 30, 30, 30] });
  assert.deepEqual(
    plan.rounds.map((r) => r.clients),
    rounds.slice(0, c.training.rounds),
  );
});
