// What the server tells the operator through its JetStream events about itself: which execution
// provider the body really runs on (server.ready), and the bytes of each round by kind and direction.
// Against a real nats-server and real ORT sessions (this machine's onnxruntime-node has no CUDA).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runLocalJob, startServer } from "@sfprompt/core";
import { fetchEvents, type ProgressEvent } from "@sfprompt/protocol";
import { fashionSubsets } from "./bundle-fixture.js";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";

const w = natsAndBundleHooks();

/** The job's events as stored in its stream, up to the first one `until` accepts (20 s at most). */
async function eventsUntil(job: string, until: (e: ProgressEvent) => boolean): Promise<ProgressEvent[]> {
  // fetchEvents polls with a deadline of its own; watch-events.test.ts covers watchEvents' clean stop.
  const durable = `test-${Math.random().toString(36).slice(2)}`;
  const out: ProgressEvent[] = [];
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    for (const d of await fetchEvents(w.nats.nc, job, durable)) {
      d.ack();
      if (!d.ok) continue;
      out.push(d.event);
      if (until(d.event)) return out;
    }
  }
  throw new Error(`no matching event on ${job} within 20 s; got ${out.map((e) => e.type).join(", ")}`);
}

const providerCases = [
  {
    name: "cuda asked for with CPU fallback runs on CPU and says why",
    server: { executionProvider: "cuda", cpuFallback: true },
    actual: "cpu",
    fallbackReason: true,
  },
  {
    name: "cpu asked for runs on CPU with no fallback reason",
    server: { executionProvider: "cpu" },
    actual: "cpu",
    fallbackReason: false,
  },
] as const;

for (const c of providerCases) {
  test(`server.ready: ${c.name}`, async () => {
    const config = jobConfig({ server: c.server });
    const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, instance: "server-a" });
    try {
      const events = await eventsUntil(config.names.job, (e) => e.type === "server.ready");
      const ready = events.at(-1)!;
      assert.equal(ready.type, "server.ready");
      if (ready.type !== "server.ready") return;
      assert.equal(ready.instance, "server-a");
      assert.deepEqual(ready.executionProvider, { requested: c.server.executionProvider, actual: c.actual });
      assert.equal(ready.fallbackReason !== undefined && ready.fallbackReason.length > 0, c.fallbackReason);
      assert.equal(server.stats().provider, c.actual);
    } finally {
      await server.stop();
    }
  });
}

test("server.ready: cuda without CPU fallback fails the job with ExecutionProviderError naming the fields", async () => {
  const config = jobConfig({ server: { executionProvider: "cuda", cpuFallback: false } });
  const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir });
  await assert.rejects(server.done, { name: "ExecutionProviderError" });
  const events = await eventsUntil(config.names.job, (e) => e.type === "job.failed");
  const failed = events.find((e) => e.type === "job.failed");
  assert.ok(failed && failed.type === "job.failed");
  assert.equal(failed.reason, "ExecutionProviderError");
  assert.match(failed.message, /spec\.server\.cpuFallback is false/);
  // ONNX Runtime's reason once, not wrapped in a second "CUDA was asked for and cpuFallback is false"
  assert.equal(failed.message.split("cpuFallback is false").length - 1, 1, failed.message);
  assert.match(failed.message, /but ONNX Runtime cannot use CUDA for body\.onnx: \S/, failed.message);
  assert.match(failed.message, /onnxruntime-node has no CUDA provider|the CUDA provider is installed/);
  assert.equal(
    events.some((e) => e.type === "server.ready"),
    false,
  );
});

test("round.finished carries the bytes of each kind in each direction, adding up to up, down and byKind", async () => {
  const { train, test: held } = await fashionSubsets();
  const config = jobConfig({
    clients: { count: 2, perRound: { count: 2 } },
    training: { rounds: 1, quorum: { count: 2 } },
  });
  await runLocalJob(config, { bundle: w.bundle.dir, train, eval: held, nc: w.nats.nc });
  const events = await eventsUntil(config.names.job, (e) => e.type === "job.finished");
  const sum = (o: Record<string, number | undefined>): number =>
    Object.values(o).reduce<number>((a, b) => a + (b ?? 0), 0);
  for (const e of events) {
    if (e.type !== "round.finished" && e.type !== "job.finished") continue;
    const { up, down, byKind, upByKind, downByKind } = e.bytes;
    assert.ok(upByKind && downByKind, `${e.type} has the split by direction`);
    assert.equal(sum(upByKind), up);
    assert.equal(sum(downByKind), down);
    for (const k of ["activation", "gradient", "parameters", "control"] as const)
      assert.equal((upByKind[k] ?? 0) + (downByKind[k] ?? 0), byKind[k] ?? 0, k);
    assert.ok((upByKind.activation ?? 0) > 0 && (downByKind.activation ?? 0) > 0, "activations both ways");
    assert.ok((upByKind.parameters ?? 0) > 0 && (downByKind.parameters ?? 0) > 0, "parameters both ways");
  }
  assert.ok(events.some((e) => e.type === "round.finished"));
  assert.equal(events.filter((e) => e.type === "server.ready").length, 1);
});
