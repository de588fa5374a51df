// Name patterns of transformer blocks in torch.onnx / optimum / torchvision / timm exports: each
// exporter scopes a block's nodes (and their output tensors) under the module path of the block.

export interface BlockPattern {
  /** Who exports names like this. */
  readonly family: string;
  /** An example of a matching node name, for error messages. */
  readonly example: string;
  /** Captures the block index in group 1. */
  readonly regex: RegExp;
}

export const BLOCK_PATTERNS: readonly BlockPattern[] = [
  {
    family: "torchvision-vit",
    example: "/encoder/layers/encoder_layer_3/...",
    regex: /\/encoder\/layers\/encoder_layer_(\d+)\//,
  },
  {
    family: "hf-encoder",
    example: "/vit/encoder/layer.3/... or /bert/encoder/layer.3/...",
    regex: /\/encoder\/layers?\.(\d+)\//,
  },
  {
    family: "hf-distilbert",
    example: "/distilbert/transformer/layer.3/...",
    regex: /\/transformer\/layer\.(\d+)\//,
  },
  {
    family: "timm",
    example: "/blocks/blocks.3/... or /blocks.3/...",
    regex: /\/blocks(?:\/blocks)?\.(\d+)\//,
  },
  { family: "generic-layers", example: "/layers.3/... or /layer_3/...", regex: /\/layers?[._](\d+)\// },
];

/** The block index of a node under `pattern`, from its name or else its first output's name. */
export function blockIndexOf(
  pattern: BlockPattern,
  nodeName: string,
  firstOutput: string,
): number | undefined {
  const m = pattern.regex.exec(nodeName) ?? pattern.regex.exec(firstOutput);
  return m === null ? undefined : Number(m[1]);
}

/** The searched patterns, one per line, for an error message. */
export function describePatterns(): string {
  return BLOCK_PATTERNS.map((p) => `  ${p.family}: ${p.example}`).join("\n");
}
