// output.resume: false (a job starting over) against a real nats-server and real clients: it deletes
// the job's own checkpoints and never another job's (ADR 0045, amendment). A job starting over in a
// named bucket that holds another job's checkpoints fails with CheckpointError naming the bucket and
// spec.output.bucket, and deletes nothing (that job resumes from them afterwards); alone in its
// bucket it deletes its older checkpoints, unreadable ones with them, and starts at round 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BUCKET_OWNER_OBJECT,
  checkpointObjectName,
  openArtifactStore,
  type ArtifactStore,
} from "@sfprompt/protocol";
import { checkpointSpec, writeCheckpoint } from "@sfprompt/core";
import { inCluster, jobConfig, natsAndBundleHooks } from "./job-fixture.js";
import { assertDefaultBucketAdvice, bucketContents, existingBucket, jobRuns } from "./job-runs.js";

const w = natsAndBundleHooks();
const { newName, runJob, failedStart, layout } = jobRuns(w);

const namedStore = (bucket: string): Promise<ArtifactStore> => existingBucket(w.nats.nc, bucket);

/** An object under checkpoints/ that is no parameter set: no job can be read from it. */
const GARBAGE = new TextEncoder().encode("not a checkpoint");

test("a job with output.resume false in another job's named bucket fails, naming the bucket and spec.output.bucket, and deletes none of that job's checkpoints", async () => {
  const bucket = `shared-${newName("bucket")}`;
  const a = newName("first");
  const ranA = await runJob(jobConfig({ training: { rounds: 2 }, output: { bucket } }, a));
  assert.equal(ranA.result.rounds.length, 2);
  const store = await namedStore(bucket);
  // a bucket from before owner markers (ADR 0045, second amendment): only its checkpoints say whose
  // it is; a marked one refuses the second job before its checkpoints are read (bucket-owner.test.ts)
  await store.store.delete(BUCKET_OWNER_OBJECT);
  await store.put(checkpointObjectName(9), GARBAGE);
  const before = await bucketContents(store);
  assert.deepEqual(await store.checkpointNames(), [1, 2, 9].map(checkpointObjectName));

  const b = jobConfig({ output: { bucket, resume: false } }, newName("second"));
  const { error, failed } = await failedStart(b);
  assert.equal((error as Error | undefined)?.name, "CheckpointError", String(error));
  assert.ok(failed?.type === "job.failed", "job.failed was published");
  assert.equal(failed.reason, "CheckpointError");
  assert.match(failed.message, new RegExp(`belongs to job test_${a}, not ${b.names.job}`));
  assert.match(
    failed.message,
    new RegExp(`the bucket ${bucket} \\(spec\\.output\\.bucket\\) holds another job's checkpoints`),
  );
  assert.match(failed.message, /give this job a spec\.output\.bucket of its own/);
  assert.match(
    failed.message,
    /spec\.output\.resume: false deletes only this job's own checkpoints, so nothing was deleted/,
  );
  assert.deepEqual(await bucketContents(store), before, "every object of the first job stays, unmarked");

  const again = await runJob(jobConfig({ training: { rounds: 3 }, output: { bucket } }, a));
  assert.equal(again.result.resumedFrom, 2, "the first job goes on from its round 2");
  assert.deepEqual(again.result.rounds.slice(0, 2), ranA.result.rounds);
});

test("a job with output.resume false alone in its named bucket deletes its older checkpoints, an unreadable one with them, and starts at round 1", async () => {
  const bucket = `own-${newName("bucket")}`;
  const name = newName("again");
  await runJob(jobConfig({ training: { rounds: 2 }, output: { bucket } }, name));
  const store = await namedStore(bucket);
  await store.put(checkpointObjectName(7), GARBAGE);
  const older = new Map((await store.store.list()).map((i) => [i.name, i.nuid]));

  const over = jobConfig({ training: { rounds: 1 }, output: { bucket, resume: false } }, name);
  const ran = await runJob(over);
  assert.equal(ran.result.resumedFrom, null, "started from the initial parameters");
  const removed = ran.logs.find((l) => l.event === "checkpoints-removed");
  assert.equal(removed?.count, 3, JSON.stringify(removed));
  assert.deepEqual(removed.unreadable, [checkpointObjectName(7)]);
  assert.deepEqual(await store.checkpointNames(), [checkpointObjectName(1)], "rounds 2 and 7 are gone");
  const round1 = (await store.store.list()).find((i) => i.name === checkpointObjectName(1));
  assert.notEqual(round1?.nuid, older.get(checkpointObjectName(1)), "round 1 was written anew");
});

for (const [home, stored] of [
  ["a file", undefined],
  ["a cluster", inCluster()],
] as const) {
  test(`a job run from ${home} with output.resume false whose default bucket holds a checkpoint of a job that named it fails, saying what to do there, and deletes nothing`, async () => {
    const config = jobConfig({ output: { resume: false } }, newName("owner"), stored);
    // a job created before spec.output.bucket refused default bucket names (ADR 0045, second
    // amendment), whose spec.output.bucket names this job's default bucket
    const base = jobConfig({}, newName("intruder"));
    const intruder = { ...base, names: { ...base.names, bucket: config.names.bucket } };
    const store = await openArtifactStore(w.nats.nc, intruder.names);
    await writeCheckpoint(store, layout(), {
      job: intruder.names.job,
      method: intruder.method,
      round: 1,
      history: [],
      spec: checkpointSpec(intruder),
      attempt: "attempt1",
    });
    const before = await bucketContents(store);
    const { error, failed } = await failedStart(config);
    assert.equal((error as Error | undefined)?.name, "CheckpointError", String(error));
    assert.ok(failed?.type === "job.failed", "job.failed was published");
    assert.match(
      failed.message,
      new RegExp(
        `this job's default bucket ${config.names.bucket} holds job ${intruder.names.job}'s checkpoints`,
      ),
    );
    assertDefaultBucketAdvice(failed.message, stored !== undefined);
    assert.match(
      failed.message,
      /spec\.output\.resume: false deletes only this job's own checkpoints, so nothing was deleted/,
    );
    assert.deepEqual(await bucketContents(store), before, "the other job's checkpoint stays");
  });
}
