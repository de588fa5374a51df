// End-to-end jobs against a real nats-server and real ORT sessions on the tiny ViT's bundle: SFPrompt
// trains (accuracy above chance) and sends less than SFL + prompt on the same settings; each baseline
// reports accuracy, bytes and client-compute share as its method notes say.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  datasetSize,
  paramCount,
  paramsAllClose,
  partitionForJob,
  runLocalJob,
  watchEvents,
  type LocalJobResult,
} from "@sfprompt/core";
import type { ProgressEvent } from "@sfprompt/protocol";
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "@sfprompt/protocol/testing";
import { fashionSubsets } from "./bundle-fixture.js";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";

const w = natsAndBundleHooks();
const results = new Map<string, LocalJobResult>();

async function run(method: string, extra: Record<string, unknown> = {}): Promise<LocalJobResult> {
  const { train, test: held } = await fashionSubsets();
  const config = jobConfig({ method, ...extra });
  return runLocalJob(config, {
    bundle: w.bundle.dir,
    train,
    eval: held,
    nc: w.nats.nc,
    model: w.bundle.model,
  });
}

test("a 2-round SFPrompt job with 3 clients trains above chance, prunes by γ and reports every round", async () => {
  const { train, test: held } = await fashionSubsets();
  const config = jobConfig();
  const events: ProgressEvent[] = [];
  const r = await runLocalJob(config, {
    bundle: w.bundle.dir,
    train,
    eval: held,
    nc: w.nats.nc,
    onEvent: (e) => events.push(e),
  });
  results.set("sfprompt", r);
  assert.deepEqual(
    r.rounds.map((m) => m.round),
    [1, 2],
  );
  assert.ok(r.accuracy !== null && r.accuracy > 0.15, `accuracy ${r.accuracy} should be above chance (0.1)`);
  assert.deepEqual(r.rounds[0]!.participants, ["client-0", "client-1", "client-2"]);
  const shards = partitionForJob(train, config.data.partitioning, 3).map(datasetSize);
  assert.equal(r.rounds[0]!.samples, train.labels.length);
  assert.equal(
    r.rounds[0]!.kept,
    shards.reduce((n, k) => n + Math.ceil(k * 0.5), 0),
    "each client keeps ⌈(1−γ)·|D_k|⌉",
  );
  assert.ok(
    r.bytes.byKind["activation"]! > 0 && r.bytes.byKind["gradient"]! > 0 && r.bytes.byKind["parameters"]! > 0,
  );
  assert.ok(
    r.clientFlopsShare !== null && r.clientFlopsShare > 0 && r.clientFlopsShare < 1,
    `share ${r.clientFlopsShare}`,
  );
  // each round.finished names every participant's |D_k| and kept count, adding up to its samples
  for (const e of events) {
    if (e.type !== "round.finished") continue;
    assert.deepEqual(
      e.contributions,
      shards.map((k, i) => ({ client: `client-${i}`, samples: k, kept: Math.ceil(k * 0.5) })),
    );
    assert.equal(
      e.contributions!.reduce((n, c) => n + c.kept, 0),
      e.samples,
    );
  }
  const types = events.map((e) => e.type);
  assert.equal(types.filter((t) => t === "round.finished").length, 2);
  assert.equal(types.filter((t) => t === "checkpoint.written").length, 2);
  assert.equal(types.at(-1), "job.finished");
  // the same events are on the job's JetStream stream, in order
  const streamed: string[] = [];
  for await (const e of watchEvents(w.nats.nc, config.names.job)) streamed.push(e.type);
  assert.deepEqual(
    streamed.filter((t) => t !== "client.state"),
    types.filter((t) => t !== "client.state"),
  );
});

test("SFPrompt sends less than SFL + prompt on the same settings (pruning halves the split traffic)", async () => {
  const sfl = await run("sfl-prompt");
  results.set("sfl-prompt", sfl);
  const sfp = results.get("sfprompt") ?? (await run("sfprompt"));
  const split = (r: LocalJobResult): number => r.bytes.byKind["activation"]! + r.bytes.byKind["gradient"]!;
  assert.ok(sfp.bytes.total < sfl.bytes.total, `${sfp.bytes.total} < ${sfl.bytes.total}`);
  assert.ok(split(sfp) < 0.55 * split(sfl), `split traffic ${split(sfp)} vs ${split(sfl)}`);
  assert.equal(sfl.rounds[0]!.kept, sfl.rounds[0]!.samples, "SFL + prompt trains on every sample");
  assert.ok(sfl.accuracy !== null && sfl.accuracy > 0.15);
});

test("with promptGradient local-only no gradient crosses the network", async () => {
  const r = await run("sfprompt", {
    prompts: { length: 4, promptGradient: "local-only" },
    training: { rounds: 1 },
  });
  assert.equal(r.bytes.byKind["gradient"] ?? 0, 0);
  assert.ok(r.bytes.byKind["activation"]! > 0);
});

test("the FL baselines send only parameters: prompt + tail for FL + prompt, every weight for FL full fine-tuning", async () => {
  const flPrompt = await run("fl-prompt");
  const sfl = results.get("sfl-prompt");
  assert.equal(flPrompt.bytes.byKind["activation"] ?? 0, 0);
  assert.equal(flPrompt.bytes.byKind["gradient"] ?? 0, 0);
  if (sfl)
    assert.equal(
      flPrompt.accuracy,
      sfl.accuracy,
      "the same computation as SFL + prompt, without the network",
    );
  const flFull = await run("fl-full");
  const weights = paramCount(flFull.global);
  const promptTail = paramCount(flPrompt.global);
  assert.ok(weights > 10 * promptTail);
  // 2 rounds × 3 clients × (down + up) × 4 bytes per float32, plus frame headers
  const floats = 2 * 3 * 2 * weights * 4;
  assert.ok(
    flFull.bytes.byKind["parameters"]! >= floats && flFull.bytes.byKind["parameters"]! < floats * 1.05,
  );
  assert.ok(flFull.accuracy !== null && flPrompt.accuracy !== null);
  assert.ok(
    flFull.clientFlopsShare! > 0.8 && flFull.clientFlopsShare! < 1.2,
    `fl-full share ${flFull.clientFlopsShare} ≈ 1 by definition`,
  );
  assert.ok(flPrompt.clientFlopsShare! > results.get("sfprompt")!.clientFlopsShare!);
});

test("centralised prompt tuning runs without NATS and reports no traffic", async () => {
  const { train, test: held } = await fashionSubsets();
  const r = await runLocalJob(jobConfig({ method: "centralized" }), {
    bundle: w.bundle.dir,
    train,
    eval: held,
  });
  assert.equal(r.bytes.total, 0);
  assert.deepEqual(
    r.rounds.map((m) => m.kept),
    [train.labels.length, train.labels.length],
  );
  assert.ok(r.accuracy !== null && r.accuracy > 0.15);
});

test("a body service with saved activations trains exactly as one that recomputes", async () => {
  const { train, test: held } = await fashionSubsets();
  const runWith = async (mode: "recompute" | "save-activations"): Promise<LocalJobResult> =>
    runLocalJob(jobConfig({ training: { rounds: 1 } }), {
      bundle: w.bundle.dir,
      train,
      eval: held,
      nc: w.nats.nc,
      server: { bodyGradient: mode },
    });
  const [a, b] = [await runWith("recompute"), await runWith("save-activations")];
  assert.ok(paramsAllClose(a.global, b.global, { atol: 1e-5, rtol: 1e-4 }));
  assert.equal(a.bytes.byKind["activation"], b.bytes.byKind["activation"]);
});

test("f16 activations up and down take half the activation bytes of f32", async () => {
  const one = { training: { rounds: 1 } };
  const f32 = await run("sfprompt", one);
  const f16 = await run("sfprompt", {
    ...one,
    compression: { activationsUp: "f16", activationsDown: "f16" },
  });
  const ratio = f16.bytes.byKind["activation"]! / f32.bytes.byKind["activation"]!;
  assert.ok(ratio > 0.5 && ratio < 0.56, `ratio ${ratio} (headers are not halved)`);
  // gradients stay f32: the same bytes up to a few header bytes (meta and varying step numbers)
  const g = f16.bytes.byKind["gradient"]! / f32.bytes.byKind["gradient"]!;
  assert.ok(Math.abs(g - 1) < 0.001, `gradient ratio ${g}`);
});

test("over a nats-server with a 16 KiB max_payload tensors travel in chunks and train the same", async () => {
  const { train, test: held } = await fashionSubsets();
  const small = await startNatsServer({ maxPayload: 16 * 1024 });
  const nc = await connect({ servers: small.url });
  try {
    const config = jobConfig({ training: { rounds: 1 } });
    const chunked = await runLocalJob(config, { bundle: w.bundle.dir, train, eval: held, nc });
    const whole = await runLocalJob(jobConfig({ training: { rounds: 1 } }), {
      bundle: w.bundle.dir,
      train,
      eval: held,
      nc: w.nats.nc,
    });
    assert.ok(paramsAllClose(chunked.global, whole.global, { atol: 1e-6, rtol: 1e-5 }));
    // a [16, 21, 24] float32 activation is 32 KiB: every full batch needed several messages
    const messages = (r: LocalJobResult): number =>
      r.clients
        .flatMap((c) => c.traffic.entries)
        .filter((e) => e.kind === "activation" && e.direction === "sent")
        .reduce((n, e) => n + e.messages, 0);
    assert.ok(
      messages(chunked) > 1.5 * messages(whole),
      `${messages(chunked)} vs ${messages(whole)} messages`,
    );
  } finally {
    await nc.close();
    await small.stop();
  }
});
