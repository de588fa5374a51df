// Finds the transformer blocks of a model and the residual-stream tensors between them: cuts[i] is the
// input of block i and cuts[N] the output of the last block.
import { isFloat } from "../ir/dtype.js";
import type { Graph, Node } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { BLOCK_PATTERNS, blockIndexOf, describePatterns, type BlockPattern } from "./block-patterns.js";
import { BlockDetectionError } from "./errors.js";
import { consumers } from "./graph-edit.js";

export interface BlockLayout {
  readonly family: string;
  readonly count: number;
  /** count + 1 tensors: cuts[i] enters block i, cuts[count] leaves the last block. */
  readonly cuts: readonly string[];
  /** Block index of every node that belongs to a block. */
  readonly blockOf: ReadonlyMap<Node, number>;
}

function assign(g: Graph, p: BlockPattern): Map<Node, number> {
  const m = new Map<Node, number>();
  for (const n of g.nodes) {
    const i = blockIndexOf(p, n.name, n.outputs[0] ?? "");
    if (i !== undefined) m.set(n, i);
  }
  return m;
}

/** The pattern that places the most nodes in blocks, or undefined when none matches. */
function bestPattern(g: Graph): { pattern: BlockPattern; blockOf: Map<Node, number> } | undefined {
  let best: { pattern: BlockPattern; blockOf: Map<Node, number> } | undefined;
  for (const pattern of BLOCK_PATTERNS) {
    const blockOf = assign(g, pattern);
    if (blockOf.size > 0 && (best === undefined || blockOf.size > best.blockOf.size))
      best = { pattern, blockOf };
  }
  return best;
}

/** Why no blocks were found, with what was searched and what to do instead. */
export function notFoundMessage(detail: string): string {
  return (
    `no transformer blocks found: ${detail}. Searched node and tensor names for these patterns:\n` +
    `${describePatterns()}\n` +
    "Name the cut tensors instead: --cut-head <tensor entering the body> --cut-tail <tensor leaving the last block>"
  );
}

/** Shaped like the residual stream `ref`: same shape when both are known (a [B,1,S] mask is not), else same rank. */
function likeStream(facts: ShapeTable, t: string, ref: string): boolean {
  const [a, b] = [facts.get(t)?.shape, facts.get(ref)?.shape];
  if (a === undefined || b === undefined) return true;
  if (a.length !== b.length) return false;
  return a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

function floatTensor(facts: ShapeTable, t: string): boolean {
  return isFloat(facts.get(t)?.dtype ?? "other");
}

/** Finds the blocks; throws BlockDetectionError naming the searched patterns when there are none. */
export function findBlocks(g: Graph, facts: ShapeTable): BlockLayout {
  const best = bestPattern(g);
  if (best === undefined) throw new BlockDetectionError(notFoundMessage("no node name matches"));
  const { pattern, blockOf } = best;
  const indices = [...new Set(blockOf.values())].sort((a, b) => a - b);
  const count = indices.length;
  if (indices.some((v, i) => v !== i))
    throw new BlockDetectionError(
      notFoundMessage(`block indices under ${pattern.family} are not 0..N-1 (found ${indices.join(", ")})`),
    );
  const cons = consumers(g.nodes);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const cuts: string[] = [];
  for (let i = 0; i < count; i++) cuts.push(blockOutput(g, i, blockOf, cons, graphOutputs, facts, pattern));
  const first = blockInput(g, blockOf, facts, cuts[0] as string, pattern);
  const all = [first, ...cuts];
  checkSequential(g, blockOf, all, facts, pattern);
  return { family: pattern.family, count, cuts: all, blockOf };
}

function blockOutput(
  g: Graph,
  i: number,
  blockOf: ReadonlyMap<Node, number>,
  cons: ReadonlyMap<string, Node[]>,
  graphOutputs: ReadonlySet<string>,
  facts: ShapeTable,
  p: BlockPattern,
): string {
  const produced = g.nodes
    .filter((n) => blockOf.get(n) === i && n.opType !== "Constant")
    .flatMap((n) => n.outputs);
  const leaving = produced.filter(
    (t) =>
      t !== "" &&
      floatTensor(facts, t) &&
      (graphOutputs.has(t) || (cons.get(t) ?? []).some((c) => blockOf.get(c) !== i)),
  );
  const intoNext = leaving.filter((t) => (cons.get(t) ?? []).some((c) => blockOf.get(c) === i + 1));
  const candidates = intoNext.length > 0 ? intoNext : leaving;
  if (candidates.length === 1) return candidates[0] as string;
  throw new BlockDetectionError(
    `block ${i} (${p.family}) has ${candidates.length === 0 ? "no float output read outside it" : `several outputs read outside it (${candidates.join(", ")})`}; ` +
      "name the cuts with --cut-head and --cut-tail",
  );
}

/** The residual-stream tensor entering block 0: read by it, produced before any block, of the blocks' rank. */
function blockInput(
  g: Graph,
  blockOf: ReadonlyMap<Node, number>,
  facts: ShapeTable,
  ref: string,
  p: BlockPattern,
): string {
  const candidates = externalFloatInputs(g, blockOf, 0, facts).filter((t) => likeStream(facts, t, ref));
  if (candidates.length === 1) return candidates[0] as string;
  throw new BlockDetectionError(
    `cannot tell which tensor enters block 0 (${p.family}): ${candidates.length === 0 ? "none" : candidates.join(", ")}; ` +
      "name the cuts with --cut-head and --cut-tail",
  );
}

/** Float tensors that block i reads and neither it nor an initializer provides. */
function externalFloatInputs(
  g: Graph,
  blockOf: ReadonlyMap<Node, number>,
  i: number,
  facts: ShapeTable,
): string[] {
  const nodes = g.nodes.filter((n) => blockOf.get(n) === i);
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const out: string[] = [];
  for (const n of nodes) {
    for (const t of n.inputs) {
      if (t === "" || produced.has(t) || g.initializers.has(t) || out.includes(t)) continue;
      if (floatTensor(facts, t)) out.push(t);
    }
  }
  return out;
}

/** Block i must read the residual stream only through cuts[i] (other inputs, like masks, differ in rank). */
function checkSequential(
  g: Graph,
  blockOf: ReadonlyMap<Node, number>,
  cuts: readonly string[],
  facts: ShapeTable,
  p: BlockPattern,
): void {
  for (let i = 1; i < cuts.length - 1; i++) {
    const stream = externalFloatInputs(g, blockOf, i, facts).filter((t) =>
      likeStream(facts, t, cuts[0] as string),
    );
    if (stream.length !== 1 || stream[0] !== cuts[i])
      throw new BlockDetectionError(
        `block ${i} (${p.family}) reads ${stream.join(", ") || "nothing"} where the output of block ${i - 1} (${cuts[i]}) was expected; ` +
          "the blocks are not a simple chain: name the cuts with --cut-head and --cut-tail",
      );
  }
}
