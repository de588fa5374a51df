// Public surface of the numeric training building blocks (parameter sets, loss, optimizers, EL2N,
// FedAvg, FLOPs accounting); the trainer, server and baselines build on these.
export * from "./errors.js";
export * from "./param-set.js";
export * from "./param-set-codec.js";
export * from "./init.js";
export * from "./logits.js";
export * from "./cross-entropy.js";
export * from "./metrics.js";
export * from "./grad-clip.js";
export * from "./grad-outputs.js";
export * from "./optimizer-config.js";
export * from "./optimizer.js";
export * from "./optimizer-state-codec.js";
export * from "./el2n.js";
export * from "./fedavg.js";
export * from "./flops.js";
export * from "./compute-share.js";
