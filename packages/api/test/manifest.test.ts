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

  it("reads the job of a List, as `kubectl get sfpj -l … -o yaml` writes it and kubectl apply takes it", () => {
    // what kubectl get writes: a v1 List whose items carry the server's metadata and a status
    const text = `apiVersion: v1
kind: List
items:
  - apiVersion: sfprompt.io/v1alpha1
    kind: SFPromptJob
    metadata:
      name: mnist-demo
      namespace: default
      resourceVersion: "1234"
      uid: 0d7b2f0a-1111
    spec:
      clients:
        count: 8
      data:
        partitioning:
          strategy: dirichlet
    status:
      phase: Succeeded
metadata:
  resourceVersion: ""
`;
    const job = loadJobManifest(text);
    assert.equal(job.metadata.name, "mnist-demo");
    assert.equal(job.spec.clients.count, 8);
    // and the API's own list kind, among other documents
    const job2 = loadJobManifest(`${SECRET}---\n${text.replace("kind: List", "kind: SFPromptJobList")}`);
    assert.equal(job2.spec.data.partitioning.strategy, "dirichlet");
  });

  it("names a List item by its place when it is invalid or of another apiVersion", () => {
    const item = JOB.replace(/^/gm, "    ").replace("    apiVersion", "  - apiVersion");
    const list = (i: string): string =>
      `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n${i}`;
    assert.throws(
      () => loadJobManifest(list(item.replace("sfprompt.io/v1alpha1", "sfprompt.io/v1"))),
      (e: unknown) =>
        e instanceof ManifestError &&
        e.message.startsWith(`document 1's items[1]: apiVersion is "sfprompt.io/v1"; SFPromptJob needs`),
    );
    assert.throws(
      () => loadJobManifest(list(item.replace("count: 8", "count: 0"))),
      (e: unknown) =>
        e instanceof JobValidationError &&
        e.message.includes("spec.clients.count: must be ≥ 1 (got 0)") &&
        (e.cause as Error).message === "document 1's items[1] (SFPromptJob mnist-demo) is invalid",
    );
  });

  const failures: { name: string; text: string; error: new (...a: never[]) => Error; message: string }[] = [
    {
      name: "text that is not YAML",
      text: "kind: [unclosed",
      error: ManifestError,
      message: "not valid YAML",
    },
    {
      name: "a file without a job, naming the kind it holds",
      text: SECRET,
      error: ManifestError,
      message:
        'the manifest holds no SFPromptJob (it holds document 1: kind "Secret"); a job is a document with apiVersion: sfprompt.io/v1alpha1 and kind: SFPromptJob',
    },
    {
      name: "a job whose kind is misspelt, naming the kind it has",
      text: `${SECRET}---\n${JOB.replace("kind: SFPromptJob", "kind: SFPromptJobs")}`,
      error: ManifestError,
      message: 'it holds document 1: kind "Secret", document 2: kind "SFPromptJobs");',
    },
    {
      name: "a document without a kind",
      text: JOB.replace("kind: SFPromptJob\n", ""),
      error: ManifestError,
      message: "(it holds document 1: no kind)",
    },
    {
      name: "an empty file",
      text: "# nothing yet\n",
      error: ManifestError,
      message: "the manifest holds no SFPromptJob (it is empty)",
    },
    {
      // what `kubectl get sfpj -o yaml` writes where no job matches (another namespace, a selector)
      name: "an empty List, naming it as such rather than an empty file",
      text: 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n',
      error: ManifestError,
      message:
        'the manifest holds no SFPromptJob (it holds document 1: kind "List" with no items: the kubectl get that wrote it found no job; check its namespace, -n, or selector)',
    },
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
