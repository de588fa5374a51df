// The BERT sizes the builder needs, read from a Hugging Face config.json and checked: only what the
// builder reproduces exactly (absolute positions, erf GELU, post-LayerNorm) is accepted.
import { readFileSync } from "node:fs";
import { MinilmConfigError } from "./errors.js";

export interface BertConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
}

/** all-MiniLM-L6-v2's sizes (what the pinned config.json says). */
export const MINILM_CONFIG: BertConfig = {
  vocabSize: 30522,
  hiddenSize: 384,
  layers: 6,
  heads: 12,
  intermediateSize: 1536,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
};

const SIZES: readonly (readonly [keyof BertConfig, string])[] = [
  ["vocabSize", "vocab_size"],
  ["hiddenSize", "hidden_size"],
  ["layers", "num_hidden_layers"],
  ["heads", "num_attention_heads"],
  ["intermediateSize", "intermediate_size"],
  ["maxPositions", "max_position_embeddings"],
  ["typeVocabSize", "type_vocab_size"],
];

/** Checks the sizes fit together; throws MinilmConfigError naming the field. */
export function checkBertConfig(c: BertConfig): void {
  for (const [k, json] of SIZES)
    if (!Number.isInteger(c[k]) || c[k] < 1)
      throw new MinilmConfigError(json, `must be a whole number ≥ 1 (got ${c[k]})`);
  if (c.hiddenSize % c.heads !== 0)
    throw new MinilmConfigError(
      "num_attention_heads",
      `must divide hidden_size ${c.hiddenSize} (got ${c.heads})`,
    );
  if (!(c.layerNormEps > 0))
    throw new MinilmConfigError("layer_norm_eps", `must be a number > 0 (got ${c.layerNormEps})`);
}

function expect(json: Record<string, unknown>, field: string, allowed: readonly unknown[]): void {
  const v = json[field];
  if (!allowed.includes(v))
    throw new MinilmConfigError(
      field,
      `is ${JSON.stringify(v)}; the BERT builder reproduces only ${allowed.filter((a) => a !== undefined).join(" or ")}`,
    );
}

/** A BertConfig from the parsed config.json of a Hugging Face BERT. */
export function parseBertConfig(json: Record<string, unknown>): BertConfig {
  expect(json, "model_type", ["bert"]);
  expect(json, "hidden_act", ["gelu"]);
  expect(json, "position_embedding_type", ["absolute", undefined]);
  const size = (field: string): number => {
    const v = json[field];
    if (typeof v !== "number")
      throw new MinilmConfigError(field, `is missing or not a number (got ${JSON.stringify(v)})`);
    return v;
  };
  const c: BertConfig = {
    vocabSize: size("vocab_size"),
    hiddenSize: size("hidden_size"),
    layers: size("num_hidden_layers"),
    heads: size("num_attention_heads"),
    intermediateSize: size("intermediate_size"),
    maxPositions: size("max_position_embeddings"),
    typeVocabSize: size("type_vocab_size"),
    layerNormEps: size("layer_norm_eps"),
  };
  checkBertConfig(c);
  return c;
}

/** Reads and checks a config.json file. */
export function readBertConfig(path: string): BertConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new MinilmConfigError(path, "cannot be read as JSON; delete it so that it is downloaded again", {
      cause,
    });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new MinilmConfigError(path, "is not a JSON object");
  return parseBertConfig(json as Record<string, unknown>);
}
