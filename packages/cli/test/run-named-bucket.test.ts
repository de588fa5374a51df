// `sfprompt run --nats URL` of a job that names spec.output.bucket (ADR 0045), against a real
// nats-server: the run's checkpoints and final parameters land in that bucket (params.bin is read
// from it), none in the default bucket; --fresh deletes the job's objects there and starts clean,
// keeping the bucket, its owner marker and the objects the job did not write; a bucket holding
// another job's checkpoint, or marked by another job that has none yet (ADR 0045, second amendment),
// refuses a new session, which deletes nothing of it, and tells to edit the file also when the
// manifest is a copy of a cluster's object (metadata.uid).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobToken } from "@sfprompt/api";
import { paramTensor, writeCheckpoint } from "@sfprompt/core";
import {
  BUCKET_OWNER_OBJECT,
  checkpointObjectName,
  claimBucket,
  FINAL_ARTIFACT_OBJECT,
  openArtifactStore,
  openExistingArtifactStore,
  readBucketOwner,
  type ArtifactStore,
} from "@sfprompt/protocol";
import { assertUserError, sfprompt, writeTinyJob, natsRunWorld } from "./run-helpers.js";

const BUCKET = "cli-ckpts";

const w = natsRunWorld("cli-named-bucket-");

describe("sfprompt run --nats of a job with spec.output.bucket", () => {
  async function bucket(): Promise<ArtifactStore> {
    const store = await openExistingArtifactStore(w.nc, BUCKET);
    assert.ok(store !== null, `bucket ${BUCKET} exists`);
    return store;
  }

  async function artifactStreams(): Promise<string[]> {
    const names: string[] = [];
    for await (const n of (await jetstreamManager(w.nc)).streams.names())
      if (n.startsWith("OBJ_")) names.push(n);
    return names.sort();
  }

  it("writes to the named bucket, and --fresh empties the job's objects in it but keeps the bucket", async () => {
    const job = writeTinyJob(w.dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
    appendFileSync(job, `\n  output: { bucket: ${BUCKET} }\n`);
    const out = join(w.dir, "run");
    const first = sfprompt("run", job, "--out", out, "--nats", w.nats.url);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(join(out, "params.bin")), "params.bin, from the named bucket's final object");
    const store = await bucket();
    assert.deepEqual(await store.names(), [
      checkpointObjectName(1),
      FINAL_ARTIFACT_OBJECT,
      BUCKET_OWNER_OBJECT,
    ]);
    assert.deepEqual(await readBucketOwner(store), { kind: "job", job: jobToken("default", "tiny") });
    assert.deepEqual(await artifactStreams(), [`OBJ_${BUCKET}`], "no default bucket was made");
    const written = new Map((await store.store.list()).map((i) => [i.name, i.nuid]));
    await store.put("notes/keep", new Uint8Array([7]));

    const fresh = sfprompt("run", job, "--out", out, "--nats", w.nats.url, "--fresh");
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.doesNotMatch(fresh.stderr, /resuming tiny/);
    const again = await bucket();
    assert.deepEqual(await again.names(), [
      checkpointObjectName(1),
      FINAL_ARTIFACT_OBJECT,
      "notes/keep",
      BUCKET_OWNER_OBJECT,
    ]);
    for (const info of await again.store.list())
      if (info.name === BUCKET_OWNER_OBJECT)
        assert.equal(info.nuid, written.get(info.name), "the job's owner marker stays as it was");
      else if (written.has(info.name))
        assert.notEqual(info.nuid, written.get(info.name), `${info.name} written anew`);
    assert.deepEqual(
      [...((await again.get("notes/keep")) ?? [])],
      [7],
      "an object the job did not write stays",
    );
    assert.deepEqual(await artifactStreams(), [`OBJ_${BUCKET}`]);
  });

  it("refuses a new session in a bucket holding another job's checkpoint, naming the bucket and spec.output.bucket, and deletes nothing", async () => {
    const shared = "cli-shared-ckpts";
    const other = { job: jobToken("default", "other"), bucket: shared };
    const store = await openArtifactStore(w.nc, other);
    const prompt = paramTensor(new Float32Array([1, 2, 3, 4]), [4], "prompt");
    await writeCheckpoint(store, new Map([["prompt", prompt]]), {
      job: other.job,
      method: "sfprompt",
      round: 1,
      history: [],
    });
    await store.put(FINAL_ARTIFACT_OBJECT, new Uint8Array([1]));
    const before = (await store.store.list()).map((i) => `${i.name} ${i.nuid} ${i.revision}`).sort();

    const job = writeTinyJob(w.dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
    appendFileSync(job, `\n  output: { bucket: ${shared} }\n`);
    for (const flags of [[], ["--fresh"]]) {
      const r = sfprompt("run", job, "--out", join(w.dir, "shared-run"), "--nats", w.nats.url, ...flags);
      assertUserError(r, /belongs to job default_other, not default_tiny/);
      assert.match(
        r.stderr,
        /the bucket cli-shared-ckpts \(spec\.output\.bucket\) holds another job's checkpoints/,
      );
      assert.match(r.stderr, /give this job a spec\.output\.bucket of its own/);
      // a session in a new folder resumes (the bucket holds a checkpoint) and the server refuses it;
      // --fresh starts over, and is refused before anything is deleted
      if (flags.length > 0)
        assert.match(r.stderr, /deletes only this job's own checkpoints, so nothing was deleted/);
      const after = (await store.store.list()).map((i) => `${i.name} ${i.nuid} ${i.revision}`).sort();
      assert.deepEqual(after, before, `the other job's objects stay (${flags.join(" ") || "no flag"})`);
    }
  });

  it("refuses a new session in a bucket another job marked before checkpointing, naming the bucket and spec.output.bucket, and deletes none of its objects", async () => {
    const marked = "cli-marked-ckpts";
    const other = { job: jobToken("default", "other"), bucket: marked };
    const store = await openArtifactStore(w.nc, other);
    assert.deepEqual(await claimBucket(store, other.job), { kind: "claimed" });
    await store.put(FINAL_ARTIFACT_OBJECT, new Uint8Array([1]));
    await store.put("bundle/manifest.json", new Uint8Array([2]));
    const before = (await store.store.list()).map((i) => `${i.name} ${i.nuid} ${i.revision}`).sort();

    const job = writeTinyJob(w.dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 50 } }");
    appendFileSync(job, `\n  output: { bucket: ${marked} }\n`);
    // a manifest copied from a cluster (kubectl get -o yaml) carries the object's uid; run from the
    // file, the job is told to edit the file, not to create a new cluster job
    writeFileSync(
      job,
      readFileSync(job, "utf8").replace("  name: tiny\n", `  name: tiny\n  uid: ${randomUUID()}\n`),
    );
    assert.match(readFileSync(job, "utf8"), /\n {2}uid: /);
    for (const flags of [[], ["--fresh"]]) {
      const r = sfprompt("run", job, "--out", join(w.dir, "marked-run"), "--nats", w.nats.url, ...flags);
      assertUserError(r, /the bucket cli-marked-ckpts belongs to job default_other, not default_tiny/);
      assert.match(r.stderr, /cli-marked-ckpts is spec\.output\.bucket/);
      assert.match(r.stderr, /give this job a spec\.output\.bucket of its own/);
      assert.doesNotMatch(r.stderr, /create the job again/);
      assert.match(r.stderr, /deleted nothing/);
      const after = (await store.store.list()).map((i) => `${i.name} ${i.nuid} ${i.revision}`).sort();
      assert.deepEqual(after, before, `the other job's objects stay (${flags.join(" ") || "no flag"})`);
    }
  });
});
