// The demo model: a small ViT built in code and pre-trained by the project on Fashion-MNIST.
export * from "./errors.js";
export * from "./recipe.js";
export * from "./vit-builder.js";
export * from "./pretrain.js";
export * from "./cache.js";
