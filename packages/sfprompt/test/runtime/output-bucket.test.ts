// spec.output.bucket (ADR 0045) against a real nats-server and real clients: a job that names a bucket
// writes its checkpoints and final parameters there and none to the default bucket, and resumes from
// it; resumeFrom with a bucket reads such a job; a job refuses another job's checkpoint (of any
// model) in its named bucket, naming the bucket and the field; a source checkpoint that does not fit
// tells to drop or change spec.output.resumeFrom, not to set spec.output.resume: false.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  artifactBucketName,
  checkpointObjectName,
  FINAL_ARTIFACT_OBJECT,
  openArtifactStore,
  openExistingArtifactStore,
  type ArtifactStore,
} from "@sfprompt/protocol";
import {
  checkpointSpec,
  decodeParamSet,
  paramsAllClose,
  paramTensor,
  writeCheckpoint,
  type CheckpointSpec,
} from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { inCluster, jobConfig, natsAndBundleHooks } from "./job-fixture.js";
import { bucketContents, existingBucket, jobRuns } from "./job-runs.js";

const w = natsAndBundleHooks();
const { newName, runJob, failedStart, layout } = jobRuns(w);

const namedStore = (bucket: string): Promise<ArtifactStore> => existingBucket(w.nats.nc, bucket);

test('a job with output.bucket "my-ckpts" writes its checkpoints and final parameters there, none to the default bucket, and resumes from it', async () => {
  const name = newName("named");
  const config = jobConfig({ training: { rounds: 2 }, output: { bucket: "my-ckpts" } }, name);
  assert.equal(config.names.bucket, "my-ckpts");
  const first = await runJob(config);
  assert.equal(first.result.resumedFrom, null);
  const store = await namedStore("my-ckpts");
  assert.ok((await store.checkpointNames()).includes(checkpointObjectName(2)), "round 2 checkpointed");
  const final = await store.get(FINAL_ARTIFACT_OBJECT);
  assert.ok(final !== null, "the final parameters are in my-ckpts");
  assert.ok(paramsAllClose(decodeParamSet(final), first.result.global, { atol: 0, rtol: 0 }));
  const defaultBucket = artifactBucketName(config.names.job);
  assert.equal(await openExistingArtifactStore(w.nats.nc, defaultBucket), null, "no default bucket");

  const again = jobConfig({ training: { rounds: 3 }, output: { bucket: "my-ckpts" } }, name);
  const second = await runJob(again);
  assert.equal(second.result.resumedFrom, 2, "resumed from my-ckpts' round 2");
  assert.deepEqual(
    second.result.rounds.map((r) => r.round),
    [1, 2, 3],
  );
  assert.deepEqual(second.result.rounds.slice(0, 2), first.result.rounds);
  assert.ok((await store.checkpointNames()).includes(checkpointObjectName(3)), "round 3 checkpointed");
  const final3 = await store.get(FINAL_ARTIFACT_OBJECT);
  assert.ok(
    final3 !== null && paramsAllClose(decodeParamSet(final3), second.result.global, { atol: 0, rtol: 0 }),
  );
  assert.equal(await openExistingArtifactStore(w.nats.nc, defaultBucket), null, "still no default bucket");
});

test("a job with resumeFrom {job, bucket} starts from that job's checkpoint in its named bucket and leaves the bucket unchanged", async () => {
  const a = newName("src");
  const configA = jobConfig({ training: { rounds: 1 }, output: { bucket: "src-ckpts" } }, a);
  const ranA = await runJob(configA);
  const storeA = await namedStore("src-ckpts");
  const before = await bucketContents(storeA);

  const configB = jobConfig(
    { training: { rounds: 2 }, output: { resumeFrom: { job: a, bucket: "src-ckpts" } } },
    newName("next"),
  );
  assert.equal(configB.output.resumeFrom?.bucket, "src-ckpts");
  const ranB = await runJob(configB);
  assert.equal(ranB.result.resumedFrom, 1);
  assert.ok(paramsAllClose(ranB.result.startedFrom, ranA.result.global, { atol: 1e-7, rtol: 0 }));
  const resumed = ranB.logs.find((l) => l.event === "resumed");
  assert.equal(resumed?.from, a);
  assert.equal(resumed.bucket, "src-ckpts");
  const storeB = await openArtifactStore(w.nats.nc, configB.names);
  assert.equal(storeB.bucket, artifactBucketName(configB.names.job), "B writes to its default bucket");
  assert.deepEqual(await storeB.checkpointNames(), [checkpointObjectName(2)]);
  assert.deepEqual(await bucketContents(storeA), before, "the source's bucket is only read");
});

for (const [home, stored] of [
  ["a file", undefined],
  ["a cluster", inCluster()],
] as const) {
  test(`a job run from ${home} whose named bucket holds another job's checkpoint fails, naming the bucket and spec.output.bucket and what to do there, and leaves that checkpoint`, async () => {
    const bucket = `shared-${newName("ckpts")}`;
    const other = jobConfig({ output: { bucket } }, newName("first"));
    const store = await openArtifactStore(w.nats.nc, other.names);
    await writeCheckpoint(store, layout(), {
      job: other.names.job,
      method: other.method,
      round: 1,
      history: [],
      spec: checkpointSpec(other),
      attempt: "attempt1",
    });
    const before = await bucketContents(store);
    const config = jobConfig({ output: { bucket } }, newName("second"), stored);
    const { error, failed } = await failedStart(config);
    assert.equal((error as Error | undefined)?.name, "CheckpointError", String(error));
    assert.ok(failed?.type === "job.failed", "job.failed was published");
    assert.equal(failed.reason, "CheckpointError");
    assert.match(failed.message, new RegExp(`belongs to job ${other.names.job}, not ${config.names.job}`));
    assert.match(
      failed.message,
      new RegExp(`the bucket ${bucket} \\(spec\\.output\\.bucket\\) holds another job's checkpoints`),
    );
    if (stored === undefined) {
      assert.match(failed.message, /give this job a spec\.output\.bucket of its own/);
    } else {
      // a cluster job's spec.output.bucket is immutable (ADR 0045, third amendment)
      assert.doesNotMatch(failed.message, /give this job a spec\.output\.bucket/);
      assert.match(
        failed.message,
        /spec\.output\.bucket is fixed when a job is created: create the job again/,
      );
      assert.match(
        failed.message,
        new RegExp(`give it spec\\.output\\.resumeFrom \\(job ${other.names.job}, bucket ${bucket}\\)`),
      );
    }
    assert.deepEqual(await bucketContents(store), before, "the other job's checkpoint stays");
  });
}

test("a job whose named bucket holds another job's checkpoint of another model fails as for another job's, not as for a checkpoint to start over from", async () => {
  const other = jobConfig({ output: { bucket: "shared-model-ckpts" } }, newName("first"));
  const store = await openArtifactStore(w.nats.nc, other.names);
  await writeCheckpoint(store, new Map([["prompt", paramTensor(new Float32Array(4), [4], "prompt")]]), {
    job: other.names.job,
    method: other.method,
    round: 1,
    history: [],
  });
  const before = await bucketContents(store);
  const config = jobConfig({ output: { bucket: "shared-model-ckpts" } }, newName("second"));
  const { error, failed } = await failedStart(config);
  assert.equal((error as Error | undefined)?.name, "CheckpointError", String(error));
  assert.ok(failed?.type === "job.failed", "job.failed was published");
  assert.match(failed.message, new RegExp(`belongs to job ${other.names.job}, not ${config.names.job}`));
  assert.match(failed.message, /shared-model-ckpts \(spec\.output\.bucket\) holds another job's checkpoints/);
  assert.doesNotMatch(failed.message, /does not fit|spec\.output\.resume: false/);
  assert.deepEqual(await bucketContents(store), before, "the other job's checkpoint stays");
});

const misfits: [string, (c: RunConfig) => { round: number; spec: CheckpointSpec }, string][] = [
  [
    "written under another spec.classes.numClasses",
    (c) => ({ round: 1, spec: { ...checkpointSpec(c), numClasses: 7 } }),
    "spec.classes.numClasses",
  ],
  [
    "of a round past the job's spec.training.rounds",
    (c) => ({ round: 5, spec: { ...checkpointSpec(c), rounds: 5 } }),
    "spec.training.rounds",
  ],
];

for (const [what, make, field] of misfits) {
  test(`a resumeFrom source checkpoint ${what} fails the job, telling to drop or change spec.output.resumeFrom`, async () => {
    const name = newName("misfit");
    const source = jobConfig({ output: { bucket: `bucket-${name}` } }, name);
    const store = await openArtifactStore(w.nats.nc, source.names);
    const { round, spec } = make(source);
    await writeCheckpoint(store, layout(), {
      job: source.names.job,
      method: source.method,
      round,
      history: [],
      spec,
      attempt: "attempt1",
    });
    const config = jobConfig(
      { output: { resumeFrom: { job: source.job.name, bucket: store.bucket } } },
      newName("seeded"),
    );
    const { error, failed } = await failedStart(config);
    assert.equal((error as Error | undefined)?.name, "ResumeMismatchError", String(error));
    assert.equal((error as { field?: string }).field, field);
    assert.ok(failed?.type === "job.failed", "job.failed was published");
    assert.equal(failed.reason, "ResumeMismatchError");
    assert.match(failed.message, /drop spec\.output\.resumeFrom/);
    assert.match(failed.message, new RegExp(`spec\\.output\\.resumeFrom\\.job \\(now ${source.job.name}\\)`));
    assert.doesNotMatch(failed.message, /spec\.output\.resume: false/);
    const own = await openArtifactStore(w.nats.nc, config.names);
    assert.deepEqual(await own.checkpointNames(), [], "nothing was written as if resumed");
  });
}
