// The status after the server or its NATS change under a running job: a new server.ready without a
// fallback reason, a job moved to another NATS (spec.transport.url), an event stream lost and made again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jobToken } from "@sfprompt/api";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureJobResources, eventStreamName, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { startNatsServer } from "@sfprompt/protocol/testing";
import { jobManifest } from "../fixtures.js";
import {
  condition,
  createJob,
  operatorWorldHooks,
  patchJobSpec,
  runOperator,
  testConfig,
  waitForJob,
  type JobObject,
} from "./harness.js";

const w = operatorWorldHooks();

type ServerView = { instance?: string; executionProvider?: string; fallbackReason?: string };
const serverOf = (j: JobObject): ServerView | undefined => j.status?.server as ServerView | undefined;

test("a server that reports again without a fallback reason clears the old reason from the status", async () => {
  await createJob(w.world, jobManifest("gpufix", { clients: { count: 1 } }));
  const job = jobToken("default", "gpufix");
  await ensureJobResources(w.nc, job);
  const at = new Date().toISOString();
  await publishEvent(w.nc, {
    v: 1,
    job,
    at,
    type: "server.ready",
    instance: "first",
    executionProvider: { requested: "cuda", actual: "cpu" },
    fallbackReason: "libcudart.so.12: cannot open shared object file",
  });
  await waitForJob(
    w.world,
    "gpufix",
    (j) => serverOf(j)?.fallbackReason !== undefined,
    "the fallback reason",
  );
  // The user gave the server a GPU; the new server runs on CUDA and has nothing to explain.
  await publishEvent(w.nc, {
    v: 1,
    job,
    at,
    type: "server.ready",
    instance: "second",
    executionProvider: { requested: "cuda", actual: "cuda" },
  });
  const fixed = await waitForJob(
    w.world,
    "gpufix",
    (j) => serverOf(j)?.instance === "second",
    "the new server",
  );
  assert.equal(serverOf(fixed)?.executionProvider, "cuda");
  assert.equal(serverOf(fixed)?.fallbackReason, undefined, "no stale reason beside cuda");
  assert.equal(condition(fixed, "CpuFallback")?.status, "False");
});

test("a job moved to another NATS (spec.transport.url) shows that NATS's events, not the old stream's", async () => {
  await createJob(w.world, jobManifest("moved", { clients: { count: 1 } }));
  const job = jobToken("default", "moved");
  await ensureJobResources(w.nc, job);
  const base = { v: 1 as const, job, at: new Date().toISOString() };
  const ready = (instance: string, actual: "cpu" | "cuda"): ProgressEvent => ({
    ...base,
    type: "server.ready",
    instance,
    executionProvider: { requested: "cuda", actual },
  });
  const onA: ProgressEvent[] = [
    ready("on-a", "cpu"),
    { ...base, type: "client.state", client: "client-0", state: "connected" },
    { ...base, type: "client.state", client: "client-0", state: "idle" },
  ];
  for (const e of onA) await publishEvent(w.nc, e);
  await waitForJob(w.world, "moved", (j) => serverOf(j)?.instance === "on-a", "the first NATS's events");

  const b = await startNatsServer();
  const nb = await connect({ servers: b.url });
  try {
    await ensureJobResources(nb, job);
    await publishEvent(nb, ready("on-b", "cuda"));
    await patchJobSpec(w.world, "moved", { transport: { url: b.url } });
    // The new stream starts at sequence 1: carrying the old stream's position over would skip it.
    const moved = await waitForJob(
      w.world,
      "moved",
      (j) => serverOf(j)?.instance === "on-b",
      "the second NATS's server.ready",
    );
    assert.equal(serverOf(moved)?.executionProvider, "cuda");
    assert.equal(condition(moved, "CpuFallback")?.status, "False");
  } finally {
    await nb.drain();
    await w.operator.stop();
    await b.stop();
    w.operator = await runOperator(w.world, testConfig(w.world));
  }
});

test("a job whose event stream is lost and made again (NATS without persistence restarted) shows the new stream's events", async () => {
  await createJob(w.world, jobManifest("amnesia", { clients: { count: 1 } }));
  const job = jobToken("default", "amnesia");
  await ensureJobResources(w.nc, job);
  const base = { v: 1 as const, job, at: new Date().toISOString() };
  const ready = (instance: string): ProgressEvent => ({
    ...base,
    type: "server.ready",
    instance,
    executionProvider: { requested: "cuda", actual: "cpu" },
  });
  for (const instance of ["old-1", "old-2", "old-3"]) await publishEvent(w.nc, ready(instance));
  await waitForJob(w.world, "amnesia", (j) => serverOf(j)?.instance === "old-3", "the first stream's events");

  const jsm = await jetstreamManager(w.nc);
  await jsm.streams.delete(eventStreamName(job));
  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, ready("new-1"));
  await waitForJob(
    w.world,
    "amnesia",
    (j) => serverOf(j)?.instance === "new-1",
    "the new stream's first event",
  );
});
