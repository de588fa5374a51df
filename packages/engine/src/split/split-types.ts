// The splitter's options and results, and the tensor names it creates.
import type { DType, Model } from "../ir/types.js";
import type { Pooling } from "./pooling.js";
import type { Cuts } from "./resolve-cuts.js";

/** The prompt parameter ([P, D]). */
export const PROMPT = "prompt";
/** The embeddings with the prompt spliced in ([B, S+P, D]); the head output when K = 0. */
export const PROMPTED = "sfp/prompted";
/** The body output: one vector per sample ([B, D]). */
export const POOLED = "sfp/pooled";
/** The same pooling applied to the head output, inside the local-path model. */
export const LOCAL_POOLED = "sfp/local_pooled";

export interface SplitOptions {
  /** K: transformer blocks in the head (the body gets the rest, at least one). */
  readonly headBlocks: number;
  /** P: prompt tokens inserted after the CLS token (0: none). */
  readonly promptLength: number;
  /** C: replace the classifier with a fresh C-class one. */
  readonly numClasses?: number;
  /** Explicit head output / last block output tensors (instead of, or overriding, found blocks). */
  readonly cutHead?: string;
  readonly cutTail?: string;
  /** What the tail reads: the CLS token or the mean over tokens; default: what the model does. */
  readonly pooling?: Pooling;
  /** Seed of the prompt and classifier initialisation (default 0). */
  readonly seed?: number;
  /** The logits output (default "logits" when the model has it, else its first output). */
  readonly logits?: string;
}

export type ParameterInit = "xavier-uniform" | "zeros" | "pretrained";

export interface ParameterInfo {
  readonly name: string;
  readonly partition: "head" | "tail";
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly init: ParameterInit;
}

export interface SplitModel {
  /** The whole prompted model (head -> body -> tail in one graph), outputs [logits]. */
  readonly prompted: Model;
  readonly head: Model;
  readonly body: Model;
  readonly tail: Model;
  /** head -> pooling -> tail, body skipped: the local-loss path. */
  readonly local: Model;
  readonly parameters: readonly ParameterInfo[];
  readonly headOutput: string;
  readonly bodyOutput: string;
  readonly logits: string;
  readonly numClasses: number;
  readonly pooling: Pooling;
  readonly maskInputs: readonly string[];
  readonly cuts: Cuts;
  readonly opset: number;
}
