// The tables of valid and invalid specs, shared by the zod tests, the CRD-with-CEL tests and the
// tests against a real kube-apiserver, so that all three judge the same cases.
import assert from "node:assert/strict";
import type { SFPromptJob } from "../../src/index.js";
import { jobWith, type Json } from "./builders.js";

export interface ValidCase {
  name: string;
  spec: Json;
  check: (job: SFPromptJob) => void;
}

export const validCases: ValidCase[] = [
  {
    name: "an empty spec (the demo)",
    spec: {},
    check: (j) => assert.deepEqual(j.spec.model.source, { builtin: "demo" }),
  },
  {
    name: "a model on a PVC cut at explicit tensors",
    spec: {
      model: {
        source: { persistentVolumeClaim: { claimName: "models", path: "vit-b16.onnx" } },
        split: { cutTensors: { head: "/blocks.0/Add_1_output_0", body: "/blocks.11/Add_1_output_0" } },
      },
    },
    check: (j) => assert.equal(j.spec.model.split.cutTensors?.body, "/blocks.11/Add_1_output_0"),
  },
  {
    name: "a model in a ConfigMap",
    spec: { model: { source: { configMap: { name: "tiny-model", key: "model.onnx" } } } },
    check: (j) => assert.equal(j.spec.model.source.configMap?.key, "model.onnx"),
  },
  {
    name: "Dirichlet partitioning with a per-client cap",
    spec: {
      data: {
        source: { builtin: "fashion-mnist" },
        partitioning: { strategy: "dirichlet", alpha: 0.1, seed: 7, samplesPerClient: 500 },
      },
    },
    check: (j) =>
      assert.deepEqual(j.spec.data.partitioning, {
        strategy: "dirichlet",
        alpha: 0.1,
        seed: 7,
        samplesPerClient: 500,
      }),
  },
  {
    name: "a quorum of every client a fractional selection rounds up to",
    spec: { clients: { count: 5, perRound: { fraction: 0.5 } }, training: { quorum: { count: 3 } } },
    check: (j) => assert.deepEqual(j.spec.training.quorum, { count: 3 }),
  },
  {
    name: "a quorum of all clients selected by the whole fraction 1",
    spec: { clients: { count: 4, perRound: { fraction: 1 } }, training: { quorum: { count: 4 } } },
    check: (j) => assert.deepEqual(j.spec.clients.perRound, { fraction: 1 }),
  },
  {
    name: "a quorum at a selection whose product has a rounding error (0.3 of 10)",
    spec: { clients: { count: 10, perRound: { fraction: 0.3 } }, training: { quorum: { count: 3 } } },
    check: (j) => assert.deepEqual(j.spec.training.quorum, { count: 3 }),
  },
  {
    name: "a counted selection and quorum",
    spec: { clients: { count: 8, perRound: { count: 4 } }, training: { quorum: { count: 3 } } },
    check: (j) => assert.deepEqual(j.spec.training.quorum, { count: 3 }),
  },
  {
    name: "the text model minilm on the built-in texts, with its tokenizer's length",
    spec: {
      model: { source: { builtin: "minilm" }, split: { pooling: "mean" }, tokenizer: { maxLength: 24 } },
      data: { source: { builtin: "debian-sections" } },
    },
    check: (j) => assert.deepEqual(j.spec.model.tokenizer, { lowercase: true, maxLength: 24 }),
  },
  {
    name: "a head without blocks pooled by mean",
    spec: { model: { split: { headBlocks: 0, pooling: "mean" } } },
    check: (j) => assert.equal(j.spec.model.split.pooling, "mean"),
  },
  {
    name: "a head without blocks pooled by CLS when the local loss is off",
    spec: { model: { split: { headBlocks: 0 } }, training: { localLoss: { enabled: false } } },
    check: (j) => assert.equal(j.spec.training.localLoss.enabled, false),
  },
  {
    name: "a head without blocks pooled by CLS for the sfl-prompt baseline",
    spec: { method: "sfl-prompt", model: { split: { headBlocks: 0 } } },
    check: (j) => assert.equal(j.spec.method, "sfl-prompt"),
  },
  {
    name: "JSONL data with a held-out JSONL file",
    spec: {
      data: {
        source: { jsonl: { path: "/data/train.jsonl", labelField: "y" } },
        evalSource: { jsonl: { path: "/data/test.jsonl" } },
        partitioning: { strategy: "none" },
      },
    },
    check: (j) =>
      assert.deepEqual(j.spec.data.source.jsonl, {
        path: "/data/train.jsonl",
        labelField: "y",
      }),
  },
  {
    name: "an image folder without evaluation",
    spec: {
      data: { source: { imageFolder: { path: "/data/images" } } },
      training: { evaluation: { everyRounds: 0 } },
    },
    check: (j) => assert.equal(j.spec.training.evaluation.everyRounds, 0),
  },
  {
    name: "a GPU server with tolerations and quantities as integers and strings",
    spec: {
      server: {
        gpus: 1,
        nodeSelector: { "nvidia.com/gpu.present": "true" },
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        resources: { requests: { cpu: 2, memory: "8Gi" }, limits: { "nvidia.com/gpu": 1, memory: "16Gi" } },
      },
      clients: { spreadOnePerNode: true, resources: { requests: { cpu: "250m" } } },
    },
    check: (j) => assert.equal(j.spec.server.resources?.requests?.cpu, 2),
  },
  {
    name: "a GPU server on k3s with the nvidia RuntimeClass",
    spec: { server: { gpus: 1, runtimeClassName: "nvidia" } },
    check: (j) => assert.equal(j.spec.server.runtimeClassName, "nvidia"),
  },
  {
    name: "class labels for every class",
    spec: { classes: { numClasses: 3, labels: ["cat", "dog", "bird"] } },
    check: (j) => assert.deepEqual(j.spec.classes.labels, ["cat", "dog", "bird"]),
  },
  {
    name: "an external NATS with credentials, int8 activations and a deadline",
    spec: {
      transport: { url: "nats://nats.messaging:4222", credentialsSecret: "nats-creds", maxPayload: 8388608 },
      compression: { activationsUp: "int8", gradientsUp: "f16" },
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 600,
      suspend: true,
    },
    check: (j) => assert.equal(j.spec.compression.activationsUp, "int8"),
  },
  {
    name: "extra environment variables for the server and the clients",
    spec: {
      server: { env: [{ name: "OMP_NUM_THREADS", value: "4" }] },
      clients: {
        env: [{ name: "SFPROMPT_PYPI_INDEX", value: "https://mirror.example/simple" }, { name: "EMPTY" }],
      },
    },
    check: (j) => {
      assert.deepEqual(j.spec.server.env, [{ name: "OMP_NUM_THREADS", value: "4" }]);
      assert.deepEqual(j.spec.clients.env?.[1], { name: "EMPTY", value: "" });
    },
  },
  {
    name: "environment variables from a Secret key and a ConfigMap key",
    spec: {
      server: { env: [{ name: "HTTPS_PROXY", valueFrom: { secretKeyRef: { name: "proxy", key: "url" } } }] },
      clients: {
        env: [
          {
            name: "NO_PROXY",
            valueFrom: { configMapKeyRef: { name: "site.net", key: "no_proxy", optional: true } },
          },
        ],
      },
    },
    check: (j) => {
      assert.deepEqual(j.spec.server.env, [
        { name: "HTTPS_PROXY", value: "", valueFrom: { secretKeyRef: { name: "proxy", key: "url" } } },
      ]);
      assert.equal(j.spec.clients.env?.[0]?.valueFrom?.configMapKeyRef?.optional, true);
    },
  },
  {
    name: "going on from another job's checkpoints in the bucket that job set",
    spec: { output: { resumeFrom: { job: "demo-failed", bucket: "kept-artifacts" } } },
    check: (j) => {
      assert.deepEqual(j.spec.output.resumeFrom, { job: "demo-failed", bucket: "kept-artifacts" });
      assert.equal(j.spec.output.resume, true);
    },
  },
  {
    name: "an output bucket named like a default one at one end only, and resumeFrom reading a default bucket",
    spec: { output: { bucket: "sfp-kept", resumeFrom: { job: "a", bucket: "sfp-default_a-artifacts" } } },
    check: (j) => {
      assert.equal(j.spec.output.bucket, "sfp-kept");
      assert.equal(j.spec.output.resumeFrom?.bucket, "sfp-default_a-artifacts");
    },
  },
  {
    name: "an output bucket ending in -artifacts without the sfp- prefix",
    spec: { output: { bucket: "team-artifacts" } },
    check: (j) => assert.equal(j.spec.output.bucket, "team-artifacts"),
  },
];

export interface InvalidCase {
  name: string;
  job: Json;
  path: string;
  message: string;
  /** false where only the webhook can tell (unknown fields are pruned; metadata is the server's). */
  crd: boolean;
}

export const invalidCases: InvalidCase[] = [
  {
    name: "zero rounds",
    job: jobWith({ training: { rounds: 0 } }),
    path: "spec.training.rounds",
    message: "must be ≥ 1 (got 0)",
    crd: true,
  },
  {
    name: "a number where the clients mapping goes, pointing at kubectl explain",
    job: jobWith({ clients: 4 }),
    path: "spec.clients",
    message: "must be a mapping (got 4); kubectl explain sfpromptjob.spec.clients lists its fields",
    crd: true,
  },
  {
    name: "a name where the optimizer mapping goes, pointing at kubectl explain",
    job: jobWith({ training: { optimizer: "adam" } }),
    path: "spec.training.optimizer",
    message:
      'must be a mapping (got "adam"); kubectl explain sfpromptjob.spec.training.optimizer lists its fields',
    crd: true,
  },
  {
    name: "a string as a toleration, pointing at kubectl explain of the list's items",
    job: jobWith({ clients: { tolerations: ["node-role.kubernetes.io/edge"] } }),
    path: "spec.clients.tolerations[0]",
    message: "kubectl explain sfpromptjob.spec.clients.tolerations lists its fields",
    crd: true,
  },
  {
    name: "a fractional number of rounds",
    job: jobWith({ training: { rounds: 2.5 } }),
    path: "spec.training.rounds",
    message: "must be an integer (got 2.5)",
    crd: true,
  },
  {
    name: "an unknown optimizer",
    job: jobWith({ training: { optimizer: { name: "rmsprop" } } }),
    path: "spec.training.optimizer.name",
    message: 'must be one of sgd, adam (got "rmsprop")',
    crd: true,
  },
  {
    name: "a model with two sources",
    job: jobWith({ model: { source: { builtin: "demo", path: "/models/vit.onnx" } } }),
    path: "spec.model.source",
    message: "set exactly one of builtin, path, persistentVolumeClaim, configMap; found builtin and path",
    crd: true,
  },
  {
    name: "a model source with no member",
    job: jobWith({ model: { source: {} } }),
    path: "spec.model.source",
    message: "none is set",
    crd: true,
  },
  {
    name: "a misspelt field",
    job: jobWith({ clients: { cuont: 3 } }),
    path: "spec.clients.cuont",
    message: "is not a field here",
    crd: false,
  },
  {
    name: "more clients per round than clients",
    job: jobWith({ clients: { count: 4, perRound: { count: 5 } } }),
    path: "spec.clients.perRound.count",
    message: "is 5 but there are only 4 clients",
    crd: true,
  },
  {
    name: "a quorum above a counted selection",
    job: jobWith({ clients: { count: 8, perRound: { count: 4 } }, training: { quorum: { count: 5 } } }),
    path: "spec.training.quorum.count",
    message: "is 5 but only 4 clients are selected per round",
    crd: true,
  },
  {
    name: "a quorum above a fractional selection",
    job: jobWith({ clients: { count: 4, perRound: { fraction: 0.5 } }, training: { quorum: { count: 3 } } }),
    path: "spec.training.quorum.count",
    message: "only 2 clients are selected per round",
    crd: true,
  },
  {
    name: "a head without blocks pooled by CLS under the local loss",
    job: jobWith({ model: { split: { headBlocks: 0 } } }),
    path: "spec.model.split.pooling",
    message: "use pooling: mean or set training.localLoss.enabled: false",
    crd: true,
  },
  {
    name: "the text model minilm with image data",
    job: jobWith({ model: { source: { builtin: "minilm" } }, data: { source: { builtin: "mnist" } } }),
    path: "spec.data.source.builtin",
    message: "is mnist, which holds images, but model.source.builtin minilm takes text",
    crd: true,
  },
  {
    name: "the image demo model with text data",
    job: jobWith({ data: { source: { builtin: "debian-sections" } } }),
    path: "spec.data.source.builtin",
    message: "is debian-sections, which holds text, but model.source.builtin demo takes images",
    crd: true,
  },
  {
    name: "a text held-out set for the image demo model",
    job: jobWith({ data: { source: { builtin: "mnist" }, evalSource: { builtin: "debian-sections" } } }),
    path: "spec.data.evalSource.builtin",
    message: "which holds text",
    crd: true,
  },
  {
    name: "a tokenizer on the image demo model",
    job: jobWith({ model: { tokenizer: { maxLength: 16 } } }),
    path: "spec.model.tokenizer",
    message: "is for text models",
    crd: true,
  },
  {
    name: "JSONL data without a held-out set",
    job: jobWith({ data: { source: { jsonl: { path: "/data/train.jsonl" } } } }),
    path: "spec.data.evalSource",
    message: "is required when the training data is a folder or JSONL file",
    crd: true,
  },
  {
    name: "fewer labels than classes",
    job: jobWith({ classes: { numClasses: 3, labels: ["cat", "dog"] } }),
    path: "spec.classes.labels",
    message: "has 2 entries but numClasses is 3",
    crd: true,
  },
  {
    name: "a class label given twice",
    job: jobWith({ classes: { numClasses: 3, labels: ["cat", "dog", "cat"] } }),
    path: "spec.classes.labels[2]",
    message: 'is "cat", which spec.classes.labels[0] already names',
    crd: true,
  },
  {
    name: "pruning everything",
    job: jobWith({ training: { pruning: { gamma: 1 } } }),
    path: "spec.training.pruning.gamma",
    message: "must be < 1 (got 1)",
    crd: true,
  },
  {
    name: "a zero selection fraction",
    job: jobWith({ clients: { perRound: { fraction: 0 } } }),
    path: "spec.clients.perRound.fraction",
    message: "must be > 0 (got 0)",
    crd: true,
  },
  {
    name: "an HTTP URL for NATS",
    job: jobWith({ transport: { url: "http://nats:4222" } }),
    path: "spec.transport.url",
    message: "must be a NATS URL such as nats://nats.example:4222",
    crd: true,
  },
  {
    // NATS's client connects to the xn-- form of such a host: the ASCII form loses no server
    name: "a NATS URL whose host name is not ASCII",
    job: jobWith({ transport: { url: "nats://bücher.example:4222" } }),
    path: "spec.transport.url",
    message:
      "in printable ASCII without spaces: a host name in other letters in its xn-- form (bücher.example: xn--bcher-kva.example), other characters percent-encoded",
    crd: true,
  },
  {
    name: "a resource quantity that is not one",
    job: jobWith({ server: { resources: { limits: { cpu: "lots" } } } }),
    path: "spec.server.resources.limits.cpu",
    message: "must be a Kubernetes quantity such as 500m or 2Gi",
    crd: true,
  },
  {
    name: "a toleration with an unknown effect",
    job: jobWith({ clients: { tolerations: [{ key: "edge", effect: "Evict" }] } }),
    path: "spec.clients.tolerations[0].effect",
    message: "must be one of NoSchedule, PreferNoSchedule, NoExecute",
    crd: true,
  },
  {
    name: "a PVC name with capitals",
    job: jobWith({ model: { source: { persistentVolumeClaim: { claimName: "Models", path: "vit.onnx" } } } }),
    path: "spec.model.source.persistentVolumeClaim.claimName",
    message: "must be a DNS-1123 subdomain",
    crd: true,
  },
  {
    name: "a RuntimeClass name with capitals",
    job: jobWith({ server: { runtimeClassName: "NVIDIA" } }),
    path: "spec.server.runtimeClassName",
    message: "must be a DNS-1123 subdomain",
    crd: true,
  },
  {
    name: "an environment variable the operator sets",
    job: jobWith({ clients: { env: [{ name: "NATS_URL", value: "nats://elsewhere:4222" }] } }),
    path: "spec.clients.env[0].name",
    message: "is set by the operator; choose another name",
    crd: true,
  },
  {
    name: "an environment variable name with a space",
    job: jobWith({ server: { env: [{ name: "MY VAR", value: "1" }] } }),
    path: "spec.server.env[0].name",
    message: "must be an environment variable name",
    crd: true,
  },
  {
    name: "an environment variable set twice",
    job: jobWith({
      server: {
        env: [
          { name: "A", value: "1" },
          { name: "A", value: "2" },
        ],
      },
    }),
    path: "spec.server.env[1]",
    message: "A is set twice; keep one entry per name",
    crd: true,
  },
  {
    name: "an environment variable with both a value and a valueFrom",
    job: jobWith({
      server: { env: [{ name: "A", value: "1", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] },
    }),
    path: "spec.server.env[0]",
    message: "give value or valueFrom, not both",
    crd: true,
  },
  {
    name: "a valueFrom naming both a Secret and a ConfigMap",
    job: jobWith({
      clients: {
        env: [
          {
            name: "A",
            valueFrom: { secretKeyRef: { name: "s", key: "k" }, configMapKeyRef: { name: "c", key: "k" } },
          },
        ],
      },
    }),
    path: "spec.clients.env[0].valueFrom",
    message: "set exactly one of secretKeyRef, configMapKeyRef",
    crd: true,
  },
  {
    name: "a valueFrom naming neither",
    job: jobWith({ clients: { env: [{ name: "A", valueFrom: {} }] } }),
    path: "spec.clients.env[0].valueFrom",
    message: "set exactly one of secretKeyRef, configMapKeyRef",
    crd: true,
  },
  {
    name: "a Secret key with a slash",
    job: jobWith({
      server: { env: [{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "a/b" } } }] },
    }),
    path: "spec.server.env[0].valueFrom.secretKeyRef.key",
    message: "must be a key name",
    crd: true,
  },
  {
    name: "a Dirichlet alpha of zero",
    job: jobWith({ data: { partitioning: { strategy: "dirichlet", alpha: 0 } } }),
    path: "spec.data.partitioning.alpha",
    message: "must be > 0",
    crd: true,
  },
  {
    name: "an unknown method",
    job: jobWith({ method: "fedprox" }),
    path: "spec.method",
    message: "must be one of",
    crd: true,
  },
  {
    name: "resumeFrom naming the job itself",
    job: jobWith({ output: { resumeFrom: { job: "demo" } } }),
    path: "spec.output.resumeFrom.job",
    message: "is demo, this job itself; a job resumes from its own checkpoints without it",
    // the spec's schema cannot see the job's name: the webhook and the reconciler refuse it
    crd: false,
  },
  {
    name: "an output bucket that is another job's default bucket",
    job: jobWith({ output: { bucket: "sfp-default_other-artifacts" } }),
    path: "spec.output.bucket",
    message:
      "is sfp-default_other-artifacts, the shape of a job's default bucket (sfp-<namespace>_<name>-artifacts), which the operator deletes with that job",
    crd: true,
  },
  {
    name: "an output bucket that is the job's own default name",
    job: jobWith({ output: { bucket: "sfp-default_demo-artifacts" } }),
    path: "spec.output.bucket",
    message: "or leave spec.output.bucket unset for this job's default bucket",
    crd: true,
  },
  {
    name: "resumeFrom with output.resume false",
    job: jobWith({ output: { resume: false, resumeFrom: { job: "failed-run" } } }),
    path: "spec.output.resumeFrom",
    message: "drop resume: false to go on from it, or drop resumeFrom to start over",
    crd: true,
  },
  {
    name: "resumeFrom naming a job that cannot exist",
    job: jobWith({ output: { resumeFrom: { job: "Failed_Run" } } }),
    path: "spec.output.resumeFrom.job",
    message: "must be a DNS-1123 subdomain",
    crd: true,
  },
  {
    name: "a job name with capitals",
    job: jobWith({}, { name: "Demo" }),
    path: "metadata.name",
    message: "must be a DNS-1123 subdomain",
    crd: false,
  },
  {
    name: "the wrong apiVersion",
    job: { ...jobWith({}), apiVersion: "sfprompt.io/v1" },
    path: "apiVersion",
    message: "must be sfprompt.io/v1alpha1",
    crd: false,
  },
];
