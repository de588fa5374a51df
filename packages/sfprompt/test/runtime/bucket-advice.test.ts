// The advice of a refused bucket fits where the job's spec is changed (ADR 0045, third amendment):
// a job from a file is told to edit spec.output.bucket, a job stored in a cluster (its run config
// carries the object's uid) to create the job again. The refusals themselves, on a real nats-server:
// bucket-owner, output-bucket and start-over-bucket tests.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BUCKET_OWNER_OBJECT } from "@sfprompt/protocol";
import { bucketOwnerMessage, jobHome } from "@sfprompt/core";
import { inCluster, jobConfig } from "./job-fixture.js";

const unreadable = { kind: "unreadable", reason: "not JSON" } as const;

describe("the advice of a bucket whose owner object cannot be read", () => {
  const cases = [
    {
      name: "a job from a file that names its bucket is told to give itself another spec.output.bucket",
      config: jobConfig({ output: { bucket: "named-ckpts" } }),
      home: "file",
      says: [/give this job a spec\.output\.bucket of its own, or leave it unset for its default one/],
    },
    {
      name: "a job from a file in its default bucket is told to give itself a spec.output.bucket",
      config: jobConfig({}),
      home: "file",
      says: [/give this job a spec\.output\.bucket of its own, or, if no other job writes/],
    },
    {
      name: "a cluster job that names its bucket is told to create the job again, as the field is fixed",
      config: jobConfig({ output: { bucket: "named-ckpts" } }, undefined, inCluster()),
      home: "cluster",
      says: [
        /spec\.output\.bucket is fixed when a job is created: create the job again \(under another name, or under this one after kubectl delete\) with a spec\.output\.bucket of its own, or none/,
        /, then create the job again$/,
      ],
    },
    {
      name: "a cluster job in its default bucket is told to create the job again under another name",
      config: jobConfig({}, undefined, inCluster()),
      home: "cluster",
      says: [
        /fixed when a job is created: create the job again under another name \(its default bucket follows/,
      ],
    },
  ] as const;
  for (const c of cases)
    it(c.name, () => {
      assert.equal(jobHome(c.config), c.home);
      const bucket = c.config.names.bucket;
      const message = bucketOwnerMessage(bucket, c.config, unreadable);
      assert.match(
        message,
        new RegExp(`${bucket}'s ${BUCKET_OWNER_OBJECT} object, .* cannot be read \\(not JSON\\)`),
      );
      assert.match(message, new RegExp(`if no other job writes ${bucket}, delete the object`));
      for (const s of c.says) assert.match(message, s);
      if (c.home === "cluster") assert.doesNotMatch(message, /give this job a spec\.output\.bucket/);
    });
});
