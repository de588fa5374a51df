import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  artifactBucketName,
  checkpointObjectName,
  consumeEvents,
  deleteJobResources,
  ensureJobResources,
  EventSchemaError,
  FINAL_ARTIFACT_OBJECT,
  eventSubject,
  fetchEvents,
  jobStreamNames,
  openArtifactStore,
  openExistingArtifactStore,
  openRoundState,
  parseEvent,
  publishEvent,
  RoundStateConflictError,
  type ProgressEvent,
  type RoundState,
} from "@sfprompt/protocol";
import { randomTensor } from "./builders.js";
import { useNats } from "./nats-hooks.js";

const nats = useNats();

const at = "2026-11-25T20:00:00.000Z";
const bytes = { up: 1000, down: 900, byKind: { activation: 1200, gradient: 700 } };
function events(job: string): ProgressEvent[] {
  return [
    { v: 1, job, at, type: "round.started", round: 0, selected: ["c0", "c1"] },
    { v: 1, job, at, type: "client.state", client: "c0", state: "split-training", round: 0 },
    {
      v: 1,
      job,
      at,
      type: "client.state",
      client: "c1",
      state: "lost",
      round: 0,
      reason: "heartbeat timeout",
    },
    {
      v: 1,
      job,
      at,
      type: "round.finished",
      round: 0,
      loss: 0.7,
      accuracy: 0.81,
      participants: ["c0"],
      samples: 120,
      bytes,
      durationMs: 2500,
    },
    {
      v: 1,
      job,
      at,
      type: "checkpoint.written",
      round: 0,
      bucket: "b",
      object: checkpointObjectName(0),
      size: 4096,
    },
    { v: 1, job, at, type: "job.finished", rounds: 1, loss: 0.7, accuracy: 0.81, bytes },
  ];
}

describe("progress events on JetStream", () => {
  it("are published once and read back in order by a durable consumer that remembers its position", async () => {
    const job = "events-a";
    await ensureJobResources(nats.nc, job);
    const sent = events(job);
    for (const e of sent) await publishEvent(nats.nc, e);
    const again = await publishEvent(nats.nc, sent[3]!); // a resumed server repeats round.finished
    assert.equal(again.duplicate, true);
    const first = await fetchEvents(nats.nc, job, "operator", { max: 4 });
    assert.deepEqual(
      first.map((d) => (d.ok ? d.event : d.error)),
      sent.slice(0, 4),
    );
    first.forEach((d) => d.ack());
    await nats.nc.flush();
    const rest = await fetchEvents(nats.nc, job, "operator", { max: 10 });
    assert.deepEqual(
      rest.map((d) => (d.ok ? d.event.type : "bad")),
      ["checkpoint.written", "job.finished"],
    );
    rest.forEach((d) => d.ack());
  });

  it("stream to an async consumer, with a malformed message delivered as a schema error", async () => {
    const job = "events-b";
    await ensureJobResources(nats.nc, job);
    await publishEvent(nats.nc, events(job)[0]!);
    nats.nc.publish(
      eventSubject(job, "round.started"),
      JSON.stringify({ v: 1, job, at, type: "round.started", round: -1, selected: [] }),
    );
    await publishEvent(nats.nc, events(job)[5]!);
    const abort = new AbortController();
    const got: string[] = [];
    for await (const d of consumeEvents(nats.nc, job, "watcher", abort.signal)) {
      got.push(d.ok ? d.event.type : `${d.error.name}:${d.error.field}`);
      if (d.ok) d.ack();
      else d.term();
      if (got.length === 3) abort.abort();
    }
    assert.deepEqual(got, ["round.started", "EventSchemaError:round", "job.finished"]);
  });

  const invalid = [
    { name: "an accuracy above 1", e: { ...events("j")[3]!, accuracy: 1.5 }, field: "accuracy" },
    { name: "a NaN loss", e: { ...events("j")[3]!, loss: NaN }, field: "loss" },
    { name: "an unknown client state", e: { ...events("j")[1]!, state: "sleeping" }, field: "state" },
    { name: "a job name with a dot", e: { ...events("j")[0]!, job: "a.b" }, field: "job" },
    { name: "an unknown type", e: { v: 1, job: "j", at, type: "round.paused" }, field: "type" },
  ];
  for (const c of invalid) {
    it(`refuse ${c.name} before publishing`, async () => {
      assert.throws(
        () => parseEvent(c.e),
        (err: unknown) => err instanceof EventSchemaError && err.field === c.field,
      );
      await assert.rejects(publishEvent(nats.nc, c.e as ProgressEvent), EventSchemaError);
    });
  }
});

describe("artifacts and round state", () => {
  it("stores checkpoints larger than max_payload in the Object Store and finds the latest", async () => {
    const store = await openArtifactStore(nats.nc, "art-a");
    const big = new Uint8Array((randomTensor("w", [3 * 1024 * 1024], 7).data as Float32Array).buffer); // 12 MiB
    await store.put(checkpointObjectName(1), big);
    await store.put(checkpointObjectName(12), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await store.get(checkpointObjectName(1)), big);
    assert.deepEqual(await store.latestCheckpoint(), { round: 12, name: checkpointObjectName(12) });
    assert.equal(await store.get("missing"), null);
  });

  it("keeps round state with compare-and-set, refusing a stale writer", async () => {
    const rs = await openRoundState(nats.nc, "state-a");
    assert.equal(await rs.get(), null);
    const state: RoundState = {
      v: 1,
      round: 3,
      phase: "split-training",
      selected: ["c0"],
      reported: [],
      startedAt: at,
    };
    const r1 = await rs.put(state, 0);
    const r2 = await rs.put({ ...state, phase: "aggregating", reported: ["c0"] }, r1);
    await assert.rejects(rs.put({ ...state, phase: "evaluating" }, r1), RoundStateConflictError);
    const now = await rs.get();
    assert.deepEqual(now, { state: { ...state, phase: "aggregating", reported: ["c0"] }, revision: r2 });
  });

  it("takes a repeated compare-and-set whose first write landed (its reply lost) as done, not as a conflict", async () => {
    const rs = await openRoundState(nats.nc, "state-b");
    const state: RoundState = {
      v: 1,
      round: 1,
      phase: "split-training",
      selected: ["c0"],
      reported: [],
      startedAt: at,
    };
    const r1 = await rs.put(state, 0);
    assert.equal(await rs.put(state, 0), r1, "the same first write again");
    const next = { ...state, phase: "checkpointing" as const, checkpoint: "checkpoints/round-000001" };
    const r2 = await rs.put(next, r1);
    assert.equal(await rs.put(next, r1), r2, "the same update again");
    await assert.rejects(rs.put({ ...next, round: 2 }, r1), RoundStateConflictError);
    assert.deepEqual(await rs.get(), { state: next, revision: r2 });
  });

  it("deletes every JetStream resource of a job, and a second deletion finds nothing", async () => {
    const job = "gone";
    const { artifacts, roundState } = await ensureJobResources(nats.nc, job);
    await artifacts.put("x", new Uint8Array(10));
    await roundState.put(
      { v: 1, round: 0, phase: "selecting", selected: [], reported: [], startedAt: at },
      0,
    );
    await publishEvent(nats.nc, events(job)[0]!);
    await ensureJobResources(nats.nc, "kept");
    const first = await deleteJobResources(nats.nc, job);
    assert.deepEqual(first.deleted.sort(), jobStreamNames(job).sort());
    const jsm = await jetstreamManager(nats.nc);
    const left: string[] = [];
    for await (const n of jsm.streams.names()) left.push(n);
    assert.ok(jobStreamNames(job).every((s) => !left.includes(s)));
    assert.ok(jobStreamNames("kept").every((s) => left.includes(s)));
    assert.deepEqual(await deleteJobResources(nats.nc, job), {
      deleted: [],
      absent: jobStreamNames(job),
      kept: [],
      removedObjects: [],
    });
  });

  it("keeps a bucket the job named (spec.output.bucket) on deletion, and empties only the job's objects in it when asked", async () => {
    const names = { job: "named", bucket: "named-bucket" };
    const { artifacts } = await ensureJobResources(nats.nc, names);
    assert.equal(artifacts.bucket, "named-bucket");
    await artifacts.put(checkpointObjectName(1), new Uint8Array(4));
    await artifacts.put(FINAL_ARTIFACT_OBJECT, new Uint8Array(3));
    await artifacts.put("notes/mine", new Uint8Array(2));
    assert.equal(
      await openExistingArtifactStore(nats.nc, artifactBucketName("named")),
      null,
      "no default bucket",
    );

    const first = await deleteJobResources(nats.nc, names);
    assert.deepEqual(first.kept, ["OBJ_named-bucket"]);
    assert.deepEqual(first.removedObjects, []);
    const jsm = await jetstreamManager(nats.nc);
    const left: string[] = [];
    for await (const n of jsm.streams.names()) left.push(n);
    assert.ok(left.includes("OBJ_named-bucket"));
    for (const s of jobStreamNames(names).filter((s) => s !== "OBJ_named-bucket"))
      assert.ok(!left.includes(s), `${s} deleted`);
    const kept = await openExistingArtifactStore(nats.nc, "named-bucket");
    assert.deepEqual(await kept?.names(), [checkpointObjectName(1), FINAL_ARTIFACT_OBJECT, "notes/mine"]);

    const fresh = await deleteJobResources(nats.nc, names, { emptyNamedBucket: true });
    assert.deepEqual(fresh.removedObjects, [checkpointObjectName(1), FINAL_ARTIFACT_OBJECT]);
    assert.deepEqual(
      await (await openArtifactStore(nats.nc, names)).names(),
      ["notes/mine"],
      "others' objects stay",
    );
  });
});
