// The bucket owner marker on a real nats-server with real clients (ADR 0045, second amendment): a job
// marks its bucket before its first round, so a second job naming the same spec.output.bucket is
// refused (BucketOwnerError, as job.failed) while the first has no checkpoint yet, with
// output.resume false too, changing nothing in the bucket, and the first job finishes unharmed; a
// job's default bucket another job marked refuses the job; a restart of the marking job goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BUCKET_OWNER_OBJECT,
  checkpointObjectName,
  claimBucket,
  FINAL_ARTIFACT_OBJECT,
  openArtifactStore,
  readBucketOwner,
} from "@sfprompt/protocol";
import { inCluster, jobConfig, natsAndBundleHooks, startClients, startTestServer } from "./job-fixture.js";
import { assertDefaultBucketAdvice, bucketContents, jobRuns, logsUntil } from "./job-runs.js";

const w = natsAndBundleHooks();
const { newName, runJob, failedStart } = jobRuns(w);

test("a second job naming a bucket whose first job has not checkpointed yet fails with BucketOwnerError, naming the bucket and spec.output.bucket, and the first job finishes in it", async () => {
  const bucket = `owned-${newName("bucket")}`;
  const name = newName("first");
  const first = jobConfig({ training: { rounds: 1 }, output: { bucket } }, name);
  const claimed = logsUntil("bucket-claimed");
  const server = await startTestServer(first, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    logger: claimed.logger,
  });
  await claimed.seen;
  const store = await openArtifactStore(w.nats.nc, first.names);
  assert.deepEqual(await store.checkpointNames(), [], "the first job has no checkpoint yet");
  assert.deepEqual(await readBucketOwner(store), { kind: "job", job: first.names.job });
  const before = await bucketContents(store);

  for (const [resume, stored] of [
    [true, undefined],
    [false, undefined],
    [true, inCluster()],
  ] as const) {
    const second = jobConfig({ output: { bucket, resume } }, newName("second"), stored);
    const { error, failed } = await failedStart(second);
    assert.equal((error as Error | undefined)?.name, "BucketOwnerError", String(error));
    assert.ok(failed?.type === "job.failed", "job.failed was published");
    assert.equal(failed.reason, "BucketOwnerError");
    assert.match(
      failed.message,
      new RegExp(`the bucket ${bucket} belongs to job ${first.names.job}, not ${second.names.job}`),
    );
    assert.match(failed.message, new RegExp(`${bucket} is spec\\.output\\.bucket`));
    if (stored === undefined) {
      assert.match(failed.message, /give this job a spec\.output\.bucket of its own/);
    } else {
      // a cluster job's spec.output.bucket is immutable (ADR 0045, third amendment)
      assert.doesNotMatch(failed.message, /give this job a spec\.output\.bucket/);
      assert.match(
        failed.message,
        /spec\.output\.bucket is fixed when a job is created: create the job again .* with a spec\.output\.bucket of its own, or none/,
      );
      assert.match(
        failed.message,
        new RegExp(`give it spec\\.output\\.resumeFrom \\(job ${first.names.job}, bucket ${bucket}\\)`),
      );
    }
    if (!resume) assert.match(failed.message, /spec\.output\.resume: false deleted nothing/);
    assert.deepEqual(await bucketContents(store), before, `nothing changed (resume ${resume})`);
  }

  const stop = new AbortController();
  const clients = await startClients(first, {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    signal: stop.signal,
  });
  try {
    const result = await server.done;
    assert.equal(result.rounds.length, 1);
  } finally {
    stop.abort();
    await Promise.all(clients.map((c) => c.done));
  }
  assert.deepEqual(await store.names(), [
    checkpointObjectName(1),
    FINAL_ARTIFACT_OBJECT,
    BUCKET_OWNER_OBJECT,
  ]);

  const again = await runJob(jobConfig({ training: { rounds: 2 }, output: { bucket } }, name));
  assert.equal(again.result.resumedFrom, 1, "the marking job goes on in its bucket");
  assert.ok(!again.logs.some((l) => l.event === "bucket-claimed"), "its marker was there already");
});

for (const [home, stored] of [
  ["a file", undefined],
  ["a cluster", inCluster()],
] as const) {
  test(`a job run from ${home} whose default bucket another job's marker claims fails with BucketOwnerError, saying what to do there, and leaves the bucket`, async () => {
    const config = jobConfig({}, newName("owner"), stored);
    const intruder = { job: `test_${newName("intruder")}`, bucket: config.names.bucket };
    const store = await openArtifactStore(w.nats.nc, intruder);
    assert.deepEqual(await claimBucket(store, intruder.job), { kind: "claimed" });
    await store.put(FINAL_ARTIFACT_OBJECT, new Uint8Array([1, 2, 3]));
    const before = await bucketContents(store);
    const { error, failed } = await failedStart(config);
    assert.equal((error as Error | undefined)?.name, "BucketOwnerError", String(error));
    assert.ok(failed?.type === "job.failed", "job.failed was published");
    assert.match(failed.message, new RegExp(`belongs to job ${intruder.job}, not ${config.names.job}`));
    assert.match(failed.message, /it is this job's default bucket, which job .* spec\.output\.bucket names/);
    assertDefaultBucketAdvice(failed.message, stored !== undefined);
    if (stored !== undefined) {
      assert.match(
        failed.message,
        new RegExp(`nats object rm ${config.names.bucket} ${BUCKET_OWNER_OBJECT}`),
      );
    }
    assert.deepEqual(await bucketContents(store), before, "the other job's objects stay");
  });
}
