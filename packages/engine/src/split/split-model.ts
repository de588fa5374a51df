// The splitter's core: from one model, the prompted model and its head, body, tail and local-path
// (head -> tail) partitions, all in memory. See docs/adr for the cut and prompt-insertion strategy.
import { defaultOpset } from "../autodiff/gradient-model.js";
import { reachingTo, topoSort } from "../autodiff/graph-analysis.js";
import { isFloat } from "../ir/dtype.js";
import type { DType, Graph, Model, Node, ValueInfo } from "../ir/types.js";
import { inferShapes } from "../shape/infer.js";
import { replaceClassifier } from "./classifier.js";
import { CutTensorError, SplitOptionsError } from "./errors.js";
import { cloneGraph, extractPartition, hasTensor, rewireConsumers } from "./graph-edit.js";
import { SeededRng, xavierUniform } from "./init.js";
import { findMaskInputs } from "./mask-inputs.js";
import { appendPooling, type Pooling } from "./pooling.js";
import { extendMask, insertPrompt } from "./prompt.js";
import { resolveCuts, type Cuts } from "./resolve-cuts.js";
import {
  copySelection,
  keepsChainBeforeMean,
  planTail,
  renameSelection,
  rewriteTail,
  type TailPlan,
} from "./tail-rewrite.js";
import { patchFanIn } from "./patch-fan-in.js";

export const PROMPT = "prompt";
export const PROMPTED = "sfp/prompted";
export const POOLED = "sfp/pooled";
const LOCAL_POOLED = "sfp/local_pooled";

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

function checkOptions(o: SplitOptions): void {
  if (!Number.isInteger(o.promptLength) || o.promptLength < 0)
    throw new SplitOptionsError(
      "promptLength",
      `--prompt-length must be a whole number ≥ 0 (got ${o.promptLength})`,
    );
  if (o.numClasses !== undefined && (!Number.isInteger(o.numClasses) || o.numClasses < 2))
    throw new SplitOptionsError(
      "numClasses",
      `--num-classes must be a whole number ≥ 2 (got ${o.numClasses})`,
    );
}

function logitsName(model: Model, o: SplitOptions): string {
  const outs = model.graph.outputs.map((x) => x.name);
  const name = o.logits ?? (outs.includes("logits") ? "logits" : outs[0]);
  if (name === undefined || !outs.includes(name))
    throw new SplitOptionsError(
      "logits",
      `the model has no output "${name ?? ""}" (outputs: ${outs.join(", ")})`,
    );
  return name;
}

/** Splits `model` into the prompted head, body and tail (and the local path). */
export function splitModel(model: Model, options: SplitOptions): SplitModel {
  checkOptions(options);
  const opset = defaultOpset(model);
  const g = cloneGraph(model.graph);
  const facts0 = inferShapes(g, opset);
  const logits = logitsName(model, options);
  const cuts = resolveCuts(g, facts0, options);
  const live = new Set(liveNodes(g, logits));
  const plan = planTail(g, facts0, opset, cuts.tail, live);
  const pooling = options.pooling ?? plan.pooling;
  checkPooling(cuts, pooling, options.promptLength);
  const embedFacts = facts0.get(cuts.embed);
  const dim = embedFacts?.shape?.at(-1);
  const dtype: DType = embedFacts?.dtype ?? "float32";
  if (typeof dim !== "number" || embedFacts?.shape?.length !== 3 || !isFloat(dtype))
    throw new CutTensorError(
      cuts.embed,
      `the embeddings "${cuts.embed}" must be a float [batch, tokens, width] tensor with a known width`,
    );
  const rng = new SeededRng(options.seed ?? 0);
  const params: ParameterInfo[] = [];
  const p = options.promptLength;
  const masks = p > 0 || pooling === "mean" ? findMaskInputs(g, cuts.embed, inBlocksOf(g, cuts.embed)) : [];
  const maskFor = new Map(masks.map((m) => [m, m]));
  if (p > 0) {
    for (const m of masks) {
      const info = g.inputs.find((i) => i.name === m) as ValueInfo;
      maskFor.set(m, extendMask(g, opset, m, info.dtype, p, `sfp/${m}_extended`));
    }
    if (hasTensor(g, PROMPT))
      throw new SplitOptionsError("promptLength", `the model already has a tensor named "${PROMPT}"`);
    const fanIn = patchFanIn(g, cuts.embed) ?? dim;
    g.inputs.push({ name: PROMPT, dtype, shape: [p, dim] });
    g.initializers.set(PROMPT, xavierUniform(rng, [p, dim], fanIn, dim, dtype));
    params.push({ name: PROMPT, partition: "head", dtype, shape: [p, dim], init: "xavier-uniform" });
    insertPrompt(g, opset, cuts.embed, PROMPT, PROMPTED);
  }
  const classifier =
    options.numClasses === undefined ? undefined : replaceClassifier(g, logits, options.numClasses, rng);
  const mask = masks[0] === undefined ? undefined : maskFor.get(masks[0]);
  // The model's own mean after a final norm stays as it is (in the body); otherwise the selection moves.
  const keepChain = options.pooling === undefined && keepsChainBeforeMean(plan);
  if (keepChain) renameSelection(g, plan, POOLED);
  else {
    appendPooling(g, opset, { x: cuts.tail, out: POOLED, mode: pooling, dtype, ...(mask ? { mask } : {}) });
    rewriteTail(g, plan, cuts.tail, POOLED);
  }
  const headOutput = p > 0 && cuts.head === cuts.embed ? PROMPTED : cuts.head;
  g.outputs = [{ name: logits, dtype }];
  // Appended nodes must follow their producers, and old value_info shapes no longer hold.
  g.nodes = topoSort(g);
  g.valueInfo = [];
  let facts = inferShapes(g, opset);
  const classes = facts.get(logits)?.shape?.at(-1);
  if (typeof classes !== "number")
    throw new CutTensorError(logits, `cannot infer the class count of "${logits}"`);
  g.outputs = [{ name: logits, dtype, shape: facts.get(logits)?.shape ?? [] }];
  for (const t of tailParameters(g, facts)) {
    const init = g.initializers.get(t)?.dims ?? [];
    g.inputs.push({ name: t, dtype: g.initializers.get(t)?.dtype ?? dtype, shape: [...init] });
    const fresh =
      t === classifier?.weight ? "xavier-uniform" : t === classifier?.bias ? "zeros" : "pretrained";
    params.push({
      name: t,
      partition: "tail",
      dtype: g.initializers.get(t)?.dtype ?? dtype,
      shape: init,
      init: fresh,
    });
  }
  facts = inferShapes(g, opset);
  const part = (name: string, outputs: string[], stops: string[]): Model => ({
    ...model,
    graph: extractPartition(g, { name, outputs, stops, facts }),
  });
  const split = {
    prompted: part("prompted", [logits], []),
    head: part("head", [headOutput], []),
    body: part("body", [POOLED], [headOutput]),
    tail: part("tail", [logits], [POOLED]),
    local: localPath(model, g, {
      opset,
      headOutput,
      pooling,
      dtype,
      logits,
      ...(mask ? { mask } : {}),
      ...(keepChain ? { kept: { plan, from: cuts.tail } } : {}),
    }),
    parameters: params,
    headOutput,
    bodyOutput: POOLED,
    logits,
    numClasses: classes,
    pooling,
    maskInputs: masks,
    cuts,
    opset,
  };
  checkPartitionParams(split);
  return split;
}

/** With the prompt at the head output, its CLS token sees no prompt (and with no block, no input either). */
function checkPooling(cuts: Cuts, pooling: Pooling, promptLength: number): void {
  if (cuts.head !== cuts.embed || pooling !== "cls") return;
  if (cuts.blocks !== undefined)
    throw new SplitOptionsError(
      "pooling",
      "--head-blocks 0 needs --pooling mean: with no block in the head, the CLS token at the head output is the same " +
        "for every input, so the local-loss path (head -> tail) could not learn from it",
    );
  if (promptLength > 0)
    throw new SplitOptionsError(
      "pooling",
      `prompts are inserted at the head output "${cuts.head}" (no blocks were found), so its CLS token does not see them: ` +
        "use --pooling mean",
    );
}

function liveNodes(g: Graph, output: string): Node[] {
  const order = topoSort(g);
  const live = reachingTo(order, [output]);
  return order.filter((n) => n.outputs.some((o) => live.has(o)));
}

/** Nodes that read the embeddings or what is computed from them: a mask input feeding one directly needs extending. */
function inBlocksOf(g: Graph, embed: string): (n: Node) => boolean {
  const order = topoSort(g);
  const after = new Set([embed]);
  for (const n of order) if (n.inputs.some((i) => after.has(i))) for (const o of n.outputs) after.add(o);
  return (n) => n.inputs.some((i) => after.has(i));
}

/** Float weights (rank ≥ 1) that only the tail reads: the final norm, a pooler, the classifier. */
function tailParameters(g: Graph, facts: ReturnType<typeof inferShapes>): string[] {
  const tail = extractPartition(g, {
    name: "tail",
    outputs: g.outputs.map((o) => o.name),
    stops: [POOLED],
    facts,
  });
  const rest = extractPartition(g, { name: "rest", outputs: [POOLED], stops: [], facts });
  const usedElsewhere = new Set(rest.nodes.flatMap((n) => n.inputs));
  return [...tail.initializers.entries()]
    .filter(([name, t]) => isFloat(t.dtype) && t.dims.length >= 1 && !usedElsewhere.has(name))
    .map(([name]) => name);
}

interface LocalRequest {
  readonly opset: number;
  readonly headOutput: string;
  readonly pooling: Pooling;
  readonly dtype: DType;
  readonly logits: string;
  readonly mask?: string;
  /** The model's own chain + mean, kept before the pooling: the local path copies it. */
  readonly kept?: { readonly plan: TailPlan; readonly from: string };
}

/** head -> pooling of the head output -> tail, in one model (the body's nodes drop out as dead). */
function localPath(model: Model, g: Graph, req: LocalRequest): Model {
  const lg = cloneGraph(g);
  rewireConsumers(lg, POOLED, LOCAL_POOLED);
  if (req.kept !== undefined) copySelection(lg, req.kept.plan, req.kept.from, req.headOutput, LOCAL_POOLED);
  else
    appendPooling(lg, req.opset, {
      x: req.headOutput,
      out: LOCAL_POOLED,
      mode: req.pooling,
      dtype: req.dtype,
      ...(req.mask ? { mask: req.mask } : {}),
    });
  lg.nodes = topoSort(lg);
  const facts = inferShapes(lg, req.opset);
  return {
    ...model,
    graph: extractPartition(lg, { name: "local", outputs: [req.logits], stops: [], facts }),
  };
}

/** A trainable parameter must live in exactly the partition the manifest names. */
function checkPartitionParams(s: Pick<SplitModel, "head" | "body" | "tail" | "parameters">): void {
  const reads = (m: Model, name: string): boolean => m.graph.inputs.some((i) => i.name === name);
  for (const p of s.parameters) {
    const owner = p.partition === "head" ? s.head : s.tail;
    const others = [s.head, s.body, s.tail].filter((m) => m !== owner);
    if (!reads(owner, p.name) || others.some((m) => reads(m, p.name)))
      throw new CutTensorError(
        p.name,
        `the trainable parameter "${p.name}" is not read by the ${p.partition} alone; the cuts do not separate the partitions — move --cut-head/--cut-tail`,
      );
  }
}
