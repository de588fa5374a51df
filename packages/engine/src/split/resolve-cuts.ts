// Decides where the model is cut: the embeddings output (where prompts go), the head output and the
// last block output, from the found blocks and --head-blocks, or from explicit cut tensor names.
import type { Graph, Node } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { BlockDetectionError, CutTensorError, SplitOptionsError } from "./errors.js";
import { findBlocks, type BlockLayout } from "./find-blocks.js";
import { descendants, hasTensor } from "./graph-edit.js";

export interface CutRequest {
  readonly headBlocks: number;
  readonly cutHead?: string;
  readonly cutTail?: string;
}

export interface Cuts {
  /** The embeddings output [B, S, D]: prompts are inserted after its first token. */
  readonly embed: string;
  /** The head's last tensor (before prompts are accounted for: equal to `embed` when K = 0). */
  readonly head: string;
  /** The last block's output [B, S, D], which the body pools. */
  readonly tail: string;
  readonly blocks?: BlockLayout;
}

function checkTensor(g: Graph, name: string, flag: string): void {
  if (hasTensor(g, name)) return;
  const examples = g.nodes
    .filter((n: Node) => n.opType !== "Constant")
    .slice(-400)
    .flatMap((n) => n.outputs)
    .filter((o) => /(Add|LayerNorm|LayerNormalization)[^/]*$/.test(o))
    .slice(-6);
  throw new CutTensorError(
    name,
    `${flag} "${name}" is not a tensor of the model (no node produces it and it is no input or initializer); ` +
      `tensor names look like: ${examples.join(", ") || g.nodes[0]?.outputs[0] || "(empty graph)"}`,
  );
}

function tryFindBlocks(g: Graph, facts: ShapeTable, req: CutRequest): BlockLayout | undefined {
  try {
    return findBlocks(g, facts);
  } catch (e) {
    // Explicit cuts make the blocks unnecessary; without them the detection error is the answer.
    if (e instanceof BlockDetectionError && req.cutHead !== undefined && req.cutTail !== undefined)
      return undefined;
    throw e;
  }
}

/** Resolves the three cut tensors; errors name the flag to change. */
export function resolveCuts(g: Graph, facts: ShapeTable, req: CutRequest): Cuts {
  if (!Number.isInteger(req.headBlocks) || req.headBlocks < 0)
    throw new SplitOptionsError(
      "headBlocks",
      `--head-blocks must be a whole number ≥ 0 (got ${req.headBlocks})`,
    );
  if (req.cutHead !== undefined) checkTensor(g, req.cutHead, "--cut-head");
  if (req.cutTail !== undefined) checkTensor(g, req.cutTail, "--cut-tail");
  const blocks = tryFindBlocks(g, facts, req);
  let cuts: Cuts;
  if (blocks === undefined) {
    cuts = { embed: req.cutHead as string, head: req.cutHead as string, tail: req.cutTail as string };
  } else {
    const n = blocks.count;
    if (req.cutHead === undefined && req.headBlocks >= n)
      throw new SplitOptionsError(
        "headBlocks",
        `--head-blocks ${req.headBlocks} leaves no block for the body: the model has ${n} blocks (${blocks.family}), so use 0..${n - 1}`,
      );
    cuts = {
      embed: blocks.cuts[0] as string,
      head: req.cutHead ?? (blocks.cuts[req.headBlocks] as string),
      tail: req.cutTail ?? (blocks.cuts[n] as string),
      blocks,
    };
  }
  checkOrder(g, cuts);
  return cuts;
}

function checkOrder(g: Graph, c: Cuts): void {
  if (c.head === c.tail)
    throw new CutTensorError(
      c.tail,
      `the head and tail cuts are the same tensor "${c.tail}": the body would be empty`,
    );
  if (!descendants(g, c.head).has(c.tail))
    throw new CutTensorError(
      c.tail,
      `the tail cut "${c.tail}" is not computed from the head cut "${c.head}"`,
    );
  if (!descendants(g, c.embed).has(c.head))
    throw new CutTensorError(
      c.head,
      `the head cut "${c.head}" is not computed from the embeddings "${c.embed}"`,
    );
}
