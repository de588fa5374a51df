// The demo model's recipe: architecture and pre-training settings. Its hash names the cache folder,
// so changing any field builds (and pre-trains) a new model instead of reusing a stale one.
import { createHash } from "node:crypto";

export interface DemoArchitecture {
  /** Square grayscale input side (28 for Fashion-MNIST / MNIST). */
  readonly image: number;
  /** Input channels (default 1, grayscale; 3 builds an RGB ViT such as ViT-B/16 for shape studies). */
  readonly channels?: number;
  /** Square patch side; image must be a multiple of it. */
  readonly patch: number;
  /** Token width D. */
  readonly width: number;
  /** Transformer blocks. */
  readonly depth: number;
  /** Attention heads; width must be a multiple of it. */
  readonly heads: number;
  /** MLP hidden size as a multiple of width. */
  readonly mlpRatio: number;
  readonly classes: number;
}

export interface DemoPretraining {
  readonly dataset: "fashion-mnist";
  /** Training samples used (the first N of the training split, in file order). */
  readonly samples: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam's peak learning rate (linear warm-up over the first 5 % of steps, cosine decay after). */
  readonly learningRate: number;
  readonly seed: number;
  /** Held-out samples (test split) the card's accuracy is measured on. */
  readonly evalSamples: number;
}

export interface DemoRecipe {
  readonly name: "demo-vit";
  /** Bumped when the builder or the training loop changes what a recipe produces. */
  readonly version: number;
  readonly architecture: DemoArchitecture;
  readonly pretraining: DemoPretraining;
}

/** The recipe behind `model.source.builtin: demo` (sized for a few minutes of pre-training on 2 cores). */
export const DEMO_RECIPE: DemoRecipe = {
  name: "demo-vit",
  version: 1,
  architecture: { image: 28, patch: 7, width: 64, depth: 4, heads: 4, mlpRatio: 2, classes: 10 },
  pretraining: {
    dataset: "fashion-mnist",
    samples: 30000,
    epochs: 2,
    batchSize: 64,
    learningRate: 2e-3,
    seed: 7,
    evalSamples: 2000,
  },
};

/** A stable JSON text of any plain value (object keys sorted), for hashing. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The first 16 hex digits of the SHA-256 of the recipe's canonical JSON. */
export function recipeHash(recipe: DemoRecipe): string {
  return createHash("sha256").update(canonical(recipe)).digest("hex").slice(0, 16);
}
