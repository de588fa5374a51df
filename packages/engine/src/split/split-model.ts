// The splitter's core: from one model, the prompted model and its head, body, tail and local-path
// (head -> tail) partitions, all in memory. Strategy: docs/adr/0008-model-split-and-prompt-insertion.md.
import { defaultOpset } from "../autodiff/gradient-model.js";
import { reachingTo, topoSort } from "../autodiff/graph-analysis.js";
import { cloneGraph } from "../ir/clone-graph.js";
import { isFloat } from "../ir/dtype.js";
import type { Dim, DType, Graph, Model, Node, ValueInfo } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { inferShapes } from "../shape/infer.js";
import { replaceClassifier, type ClassifierParams } from "./classifier.js";
import { CutTensorError, SplitOptionsError, TailRewriteError } from "./errors.js";
import { extractPartition, hasTensor } from "./graph-edit.js";
import { SeededRng, xavierUniform } from "./init.js";
import { findMaskInputs } from "./mask-inputs.js";
import { checkBodyInputs, checkPartitionParams, localPath, tailParameters } from "./partitions.js";
import { patchFanIn } from "./patch-fan-in.js";
import { appendPooling, type Pooling } from "./pooling.js";
import { extendMask, insertPrompt } from "./prompt.js";
import { resolveCuts, type Cuts } from "./resolve-cuts.js";
import {
  POOLED,
  PROMPT,
  PROMPTED,
  type ParameterInfo,
  type SplitModel,
  type SplitOptions,
} from "./split-types.js";
import {
  keepsChainBeforeMean,
  planTail,
  renameSelection,
  rewriteTail,
  type TailPlan,
} from "./tail-rewrite.js";

export {
  LOCAL_POOLED,
  POOLED,
  PROMPT,
  PROMPTED,
  type ParameterInfo,
  type ParameterInit,
  type SplitModel,
  type SplitOptions,
} from "./split-types.js";

/** What the analysis of the original model found; `g` is the copy being edited. */
interface Stage {
  readonly model: Model;
  readonly opset: number;
  readonly g: Graph;
  readonly logits: string;
  readonly cuts: Cuts;
  readonly plan: TailPlan;
  readonly pooling: Pooling;
  /** Width D and dtype of the residual stream. */
  readonly dim: number;
  readonly dtype: DType;
  readonly embedShape: readonly Dim[];
  /** Shapes inference cannot name (a symbolic sequence grown by P), declared as value_info. */
  readonly declared: ValueInfo[];
}

/** Splits `model` into the prompted head, body and tail (and the local path). */
export function splitModel(model: Model, options: SplitOptions): SplitModel {
  const st = analyse(model, options);
  const rng = new SeededRng(options.seed ?? 0);
  const { masks, mask, params } = addPrompt(st, options.promptLength, rng);
  const classifier =
    options.numClasses === undefined ? undefined : freshClassifier(st, options.numClasses, rng);
  // The model's own mean after a final norm stays as it is (in the body); otherwise the selection moves.
  // (Decided from the resolved pooling alone, so re-splitting with a manifest's options gives the same.)
  const keepChain = st.pooling === st.plan.pooling && keepsChainBeforeMean(st.plan);
  if (keepChain) renameSelection(st.g, st.plan, POOLED);
  else {
    appendPooling(st.g, st.opset, {
      x: st.cuts.tail,
      out: POOLED,
      mode: st.pooling,
      dtype: st.dtype,
      ...(mask ? { mask } : {}),
    });
    rewriteTail(st.g, st.plan, st.cuts.tail, POOLED, st.opset);
  }
  const headOutput = options.promptLength > 0 && st.cuts.head === st.cuts.embed ? PROMPTED : st.cuts.head;
  const numClasses = finishGraph(st);
  params.push(...addTailParameters(st, classifier));
  const facts = inferShapes(st.g, st.opset);
  const part = (name: string, outputs: string[], stops: string[]): Model => ({
    ...model,
    graph: extractPartition(st.g, { name, outputs, stops, facts }),
  });
  const split: SplitModel = {
    prompted: part("prompted", [st.logits], []),
    head: part("head", [headOutput], []),
    body: part("body", [POOLED], [headOutput]),
    tail: part("tail", [st.logits], [POOLED]),
    local: localPath(model, st.g, {
      opset: st.opset,
      headOutput,
      pooling: st.pooling,
      dtype: st.dtype,
      logits: st.logits,
      ...(mask ? { mask } : {}),
      ...(keepChain ? { kept: { plan: st.plan, from: st.cuts.tail } } : {}),
    }),
    parameters: params,
    headOutput,
    bodyOutput: POOLED,
    logits: st.logits,
    numClasses,
    pooling: st.pooling,
    maskInputs: masks,
    cuts: st.cuts,
    opset: st.opset,
  };
  checkPartitionParams(split);
  checkBodyInputs(split.body, dataInputs(model.graph, st.cuts.embed));
  return split;
}

function analyse(model: Model, options: SplitOptions): Stage {
  checkOptions(options);
  const opset = defaultOpset(model);
  const g = cloneGraph(model.graph);
  const facts = inferShapes(g, opset);
  const logits = logitsName(model, options);
  const cuts = resolveCuts(g, facts, options);
  const plan = planTail(g, facts, opset, cuts.tail, new Set(liveNodes(g, logits)));
  const pooling = options.pooling ?? plan.pooling;
  checkPooling(cuts, pooling, options.promptLength);
  const embed = facts.get(cuts.embed);
  const dim = embed?.shape?.at(-1);
  const dtype: DType = embed?.dtype ?? "float32";
  if (typeof dim !== "number" || embed?.shape?.length !== 3 || !isFloat(dtype))
    throw new CutTensorError(
      cuts.embed,
      `the embeddings "${cuts.embed}" must be a float [batch, tokens, width] tensor with a known width`,
    );
  return { model, opset, g, logits, cuts, plan, pooling, dim, dtype, embedShape: embed.shape, declared: [] };
}

/** The classifier swapped for a fresh one; one it cannot swap is --num-classes's refusal. */
function freshClassifier(st: Stage, classes: number, rng: SeededRng): ClassifierParams {
  try {
    return replaceClassifier(st.g, st.logits, classes, rng);
  } catch (cause) {
    if (!(cause instanceof TailRewriteError)) throw cause;
    throw new SplitOptionsError("numClasses", cause.message, { cause });
  }
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

/** Extends the mask inputs and splices in the prompt; returns the masks and the prompt parameter. */
function addPrompt(
  st: Stage,
  p: number,
  rng: SeededRng,
): { masks: string[]; mask?: string; params: ParameterInfo[] } {
  const { g, opset, cuts, dim, dtype } = st;
  const masks =
    p > 0 || st.pooling === "mean" ? findMaskInputs(g, cuts.embed, readsEmbeddings(g, cuts.embed)) : [];
  const first = masks[0];
  if (p === 0) return { masks, ...(first ? { mask: first } : {}), params: [] };
  const extended = masks.map((m) => {
    const info = g.inputs.find((i) => i.name === m) as ValueInfo;
    const out = extendMask(g, opset, m, info.dtype, p, `sfp/${m}_extended`);
    declareGrown(st, { ...info, name: out }, p);
    return out;
  });
  if (hasTensor(g, PROMPT))
    throw new SplitOptionsError(
      "model",
      `the model already has a tensor named "${PROMPT}", the name of the prompt the splitter inserts; rename that tensor in the model`,
    );
  g.inputs.push({ name: PROMPT, dtype, shape: [p, dim] });
  g.initializers.set(PROMPT, xavierUniform(rng, [p, dim], patchFanIn(g, cuts.embed) ?? dim, dim, dtype));
  insertPrompt(g, opset, cuts.embed, PROMPT, PROMPTED);
  declareGrown(st, { name: PROMPTED, dtype, shape: st.embedShape }, p);
  const param: ParameterInfo = {
    name: PROMPT,
    partition: "head",
    dtype,
    shape: [p, dim],
    init: "xavier-uniform",
  };
  return { masks, ...(extended[0] ? { mask: extended[0] } : {}), params: [param] };
}

/** Names a symbolic sequence dim grown by P (e.g. "sequence+10"), which Concat's inference leaves unknown. */
function declareGrown(st: Stage, v: ValueInfo, p: number): void {
  const seq = v.shape?.[1];
  if (typeof seq !== "string" || v.shape === undefined) return;
  const shape: Dim[] = [...v.shape];
  shape[1] = `${seq}+${p}`;
  st.declared.push({ ...v, shape });
}

/** Topological order, logits as the only output; returns the class count. */
function finishGraph(st: Stage): number {
  const g = st.g;
  g.outputs = [{ name: st.logits, dtype: st.dtype }];
  // Appended nodes must follow their producers, and old value_info shapes no longer hold.
  g.nodes = topoSort(g);
  g.valueInfo = [...st.declared];
  const shape = inferShapes(g, st.opset).get(st.logits)?.shape;
  const classes = shape?.at(-1);
  if (typeof classes !== "number")
    throw new CutTensorError(st.logits, `cannot infer the class count of "${st.logits}"`);
  g.outputs = [{ name: st.logits, dtype: st.dtype, shape: shape ?? [] }];
  return classes;
}

/** Declares the tail's weights as graph inputs (their values stay as defaults). */
function addTailParameters(st: Stage, classifier: ClassifierParams | undefined): ParameterInfo[] {
  const g = st.g;
  const facts: ShapeTable = inferShapes(g, st.opset);
  return tailParameters(g, facts).map((t) => {
    const init = g.initializers.get(t);
    const shape = [...(init?.dims ?? [])];
    const dtype = init?.dtype ?? st.dtype;
    g.inputs.push({ name: t, dtype, shape });
    const fresh =
      t === classifier?.weight ? "xavier-uniform" : t === classifier?.bias ? "zeros" : "pretrained";
    return { name: t, partition: "tail", dtype, shape, init: fresh };
  });
}

/** The model inputs the embeddings are computed from (pixels, token ids): the data itself. */
function dataInputs(g: Graph, embed: string): Set<string> {
  const before = reachingTo(topoSort(g), [embed]);
  return new Set(g.inputs.map((i) => i.name).filter((n) => before.has(n)));
}

function liveNodes(g: Graph, output: string): Node[] {
  const order = topoSort(g);
  const live = reachingTo(order, [output]);
  return order.filter((n) => n.outputs.some((o) => live.has(o)));
}

/** Nodes that read the embeddings or what is computed from them: a mask input feeding one directly needs extending. */
function readsEmbeddings(g: Graph, embed: string): (n: Node) => boolean {
  const after = new Set([embed]);
  for (const n of topoSort(g))
    if (n.inputs.some((i) => after.has(i))) for (const o of n.outputs) after.add(o);
  return (n) => n.inputs.some((i) => after.has(i));
}
