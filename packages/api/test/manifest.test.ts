// The YAML manifest loader of `sfprompt run`: the same files `kubectl apply -f` takes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { JobValidationError, loadJobManifest, loadJobManifests, ManifestError } from "../src/index.js";

const JOB = `apiVersion: sfprompt.io/v1alpha1
kind: SFPromptJob
metadata:
  name: mnist-demo
spec:
  clients:
    count: 8
  data:
    partitioning:
      strategy: dirichlet
      alpha: 0.5
`;

const SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: nats-creds
stringData:
  token: s3cret
`;

describe("loadJobManifest", () => {
  it("reads a single job and fills in its defaults", () => {
    const job = loadJobManifest(JOB);
    assert.equal(job.metadata.name, "mnist-demo");
    assert.equal(job.spec.clients.count, 8);
    assert.equal(job.spec.data.partitioning.strategy, "dirichlet");
    assert.equal(job.spec.training.rounds, 10);
  });

  it("finds the job among other documents of a multi-document file", () => {
    const job = loadJobManifest(`${SECRET}---\n${JOB}---\n`);
    assert.equal(job.metadata.name, "mnist-demo");
  });

  it("returns every job of a file in order with loadJobManifests", () => {
    const second = JOB.replace("mnist-demo", "second");
    assert.deepEqual(
      loadJobManifests(`${JOB}---\n${second}`).map((j) => j.metadata.name),
      ["mnist-demo", "second"],
    );
  });

  const failures: { name: string; text: string; error: new (...a: never[]) => Error; message: string }[] = [
    {
      name: "text that is not YAML",
      text: "kind: [unclosed",
      error: ManifestError,
      message: "not valid YAML",
    },
    { name: "a file without a job", text: SECRET, error: ManifestError, message: "holds no SFPromptJob" },
    {
      name: "two jobs for one run",
      text: `${JOB}---\n${JOB}`,
      error: ManifestError,
      message: "holds 2 SFPromptJobs",
    },
    {
      name: "a list at the top level",
      text: "- a\n- b\n",
      error: ManifestError,
      message:
        "document 1 is a list (its lines start with '- '), not a mapping; each document of a manifest is one object, with apiVersion, kind, metadata and spec at its top level",
    },
    {
      name: "a second document that is a line of text",
      text: `${JOB}---\nsee docs/api.md\n`,
      error: ManifestError,
      message: 'document 2 is the text "see docs/api.md", not a mapping',
    },
    {
      name: "a bare number",
      text: "5\n",
      error: ManifestError,
      message: "document 1 is the value 5, not a mapping",
    },
    {
      name: "a job with the wrong apiVersion",
      text: JOB.replace("sfprompt.io/v1alpha1", "sfprompt.io/v1beta1"),
      error: ManifestError,
      message: 'apiVersion is "sfprompt.io/v1beta1"; SFPromptJob needs apiVersion: sfprompt.io/v1alpha1',
    },
    {
      name: "a job with an invalid field",
      text: JOB.replace("count: 8", "count: 0"),
      error: JobValidationError,
      message: "spec.clients.count: must be ≥ 1 (got 0)",
    },
  ];
  for (const f of failures) {
    it(`refuses ${f.name} with ${f.error.name}`, () => {
      assert.throws(
        () => loadJobManifest(f.text),
        (e: unknown) => e instanceof f.error && e.message.includes(f.message),
      );
    });
  }
});
