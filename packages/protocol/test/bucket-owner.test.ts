// The bucket owner marker (ADR 0045, second amendment) against a real nats-server: of jobs racing to
// claim one unmarked bucket exactly one wins and the others read its marker; a marker is never
// overwritten (another job's, or one that cannot be read); a marker deleted by hand can be claimed
// again; the finalizer's deleteJobResources keeps a default bucket another job's marker claims and
// deletes one its own job marked.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import {
  artifactBucketName,
  BUCKET_OWNER_OBJECT,
  checkpointObjectName,
  claimBucket,
  deleteJobResources,
  ensureJobResources,
  openArtifactStore,
  ownerBytes,
  readBucketOwner,
  type ArtifactStore,
} from "@sfprompt/protocol";
import { useNats } from "./nats-hooks.js";

const nats = useNats();

async function streams(): Promise<string[]> {
  const names: string[] = [];
  for await (const n of (await jetstreamManager(nats.nc)).streams.names()) names.push(n);
  return names;
}

async function bucket(name: string): Promise<ArtifactStore> {
  return openArtifactStore(nats.nc, { job: "whoever", bucket: name });
}

describe("bucket owner marker", () => {
  it("lets exactly one of several jobs racing for an unmarked bucket claim it; the others read the winner", async () => {
    for (let round = 0; round < 5; round++) {
      const stores = await Promise.all(["a", "b", "c"].map(() => bucket(`race-${round}`)));
      const claims = await Promise.all(stores.map((s, i) => claimBucket(s, `job-${i}`)));
      const won = claims.flatMap((c, i) => (c.kind === "claimed" ? [`job-${i}`] : []));
      assert.equal(won.length, 1, `one winner in round ${round}: ${JSON.stringify(claims)}`);
      for (const c of claims) if (c.kind !== "claimed") assert.deepEqual(c, { kind: "other", owner: won[0] });
      assert.deepEqual(await readBucketOwner(stores[0]!), { kind: "job", job: won[0] });
    }
  });

  it("finds its own marker as its own, and never overwrites another job's or an unreadable one", async () => {
    const store = await bucket("marked");
    assert.deepEqual(await readBucketOwner(store), { kind: "none", revision: 0 });
    assert.deepEqual(await claimBucket(store, "first"), { kind: "claimed" });
    const marked = await store.store.info(BUCKET_OWNER_OBJECT);
    assert.deepEqual(await claimBucket(store, "first"), { kind: "own" });
    assert.deepEqual(await claimBucket(store, "second"), { kind: "other", owner: "first" });
    assert.equal((await store.store.info(BUCKET_OWNER_OBJECT))?.revision, marked?.revision, "not rewritten");
    // what makes the claim safe: a create-if-absent write loses to a marker written since its read
    await assert.rejects(
      store.store.putBlob({ name: BUCKET_OWNER_OBJECT }, ownerBytes("late"), { previousRevision: 0 }),
      (e: unknown) => e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamWrongLastSequence,
    );
    assert.deepEqual(await readBucketOwner(store), { kind: "job", job: "first" });

    const odd = await bucket("hand-written");
    await odd.put(BUCKET_OWNER_OBJECT, new TextEncoder().encode("alice"));
    const claim = await claimBucket(odd, "first");
    assert.equal(claim.kind, "unreadable");
    assert.deepEqual(
      [...((await odd.get(BUCKET_OWNER_OBJECT)) ?? [])],
      [...new TextEncoder().encode("alice")],
    );
  });

  it("lets a job claim a bucket whose marker was deleted by hand", async () => {
    const store = await bucket("released");
    assert.deepEqual(await claimBucket(store, "gone"), { kind: "claimed" });
    await store.store.delete(BUCKET_OWNER_OBJECT);
    const none = await readBucketOwner(store);
    assert.equal(none.kind, "none");
    assert.ok(none.kind === "none" && none.revision > 0, "the delete record's revision is expected");
    assert.deepEqual(await claimBucket(store, "next"), { kind: "claimed" });
    assert.deepEqual(await readBucketOwner(store), { kind: "job", job: "next" });
  });

  it("keeps a job's default bucket on deletion when another job's marker claims it, and deletes one its own job marked", async () => {
    const owner = "default_owner";
    const intruder = { job: "default_intruder", bucket: artifactBucketName(owner) };
    const { artifacts } = await ensureJobResources(nats.nc, intruder);
    await artifacts.put(checkpointObjectName(1), new Uint8Array(4));
    assert.deepEqual(await claimBucket(artifacts, intruder.job), { kind: "claimed" });
    await ensureJobResources(nats.nc, owner);

    const r = await deleteJobResources(nats.nc, owner);
    assert.deepEqual(r.kept, [`OBJ_${intruder.bucket}`]);
    assert.equal(r.keptFor, intruder.job);
    assert.ok((await streams()).includes(`OBJ_${intruder.bucket}`), "the bucket is still there");
    assert.deepEqual(await artifacts.names(), [checkpointObjectName(1), BUCKET_OWNER_OBJECT]);

    const own = "default_self";
    const mine = await ensureJobResources(nats.nc, own);
    assert.deepEqual(await claimBucket(mine.artifacts, own), { kind: "claimed" });
    const gone = await deleteJobResources(nats.nc, own);
    assert.deepEqual(gone.kept, []);
    assert.equal(gone.keptFor, undefined);
    assert.ok(!(await streams()).includes(`OBJ_${artifactBucketName(own)}`), "its own default bucket went");
  });
});
