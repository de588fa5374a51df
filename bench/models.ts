// Model shapes the benchmarks share (random weights: only shapes matter to traffic and speed).
import type { DemoArchitecture } from "@sfprompt/core";

/** ViT-B/16 at 224×224 (RGB, 12 blocks of width 768, 12 heads, MLP 3072, ImageNet's 1000 classes). */
export const VIT_B16 = {
  image: 224,
  patch: 16,
  width: 768,
  depth: 12,
  heads: 12,
  mlpRatio: 4,
  classes: 1000,
  channels: 3,
} satisfies DemoArchitecture;
