// What a user is told when the engine cannot build a model's gradient graphs: an op with no gradient
// rule, a tensor whose rank its shape inference left unknown, a grad_<name> the model already has.
// The engine's own words name no job field or flag, and end in advice for its source tree. One
// builder for sfprompt run and validate and the images' processes (under the job's field:
// jobGradientRefusal) and sfprompt prepare and grad (--model, in the CLI).
import type { RunConfig } from "@sfprompt/api";
import {
  GradientNameTakenError,
  splitModel,
  supportedGradientOps,
  UnknownRankError,
  UnsupportedGradientError,
  type Model,
  type SplitModel,
  type SplitOptions,
} from "@sfprompt/engine";
import type { JobSplitRefusal } from "./job-split.js";

/** Who asked for the gradient graphs, in the words of what the user wrote. */
export interface GradientBuildContext {
  /** What names the model: "spec.model.source.path: P", "--model P". */
  readonly subject: string;
  /** Whose gradient path it is: "the gradient path the training needs", "the gradient path of --wrt". */
  readonly path: string;
  /** What is built: "the gradient graphs the training needs", "the gradient model of --wrt". */
  readonly graphs: string;
  /** Whether (and how) the user can keep an op off that path, said after it. */
  readonly avoid: string;
  /** What a change of the engine is not a change to: "the job", "the command". */
  readonly notTo: string;
  /** Where a node lies, as ", in the tail as spec.model.split cuts the model"; "" when unknown. */
  readonly where: (node: string) => string;
  /** Where the node making a tensor lies (as `where`). */
  readonly whereTensor: (tensor: string) => string;
}

/** The job's or flags' message for an error of the gradient build, or undefined for another error. */
export function gradientBuildMessage(cause: unknown, ctx: GradientBuildContext): string | undefined {
  if (cause instanceof UnsupportedGradientError) return noGradientRule(cause, ctx);
  if (cause instanceof UnknownRankError) return unknownRank(cause, ctx);
  if (cause instanceof GradientNameTakenError) return nameTaken(cause, ctx);
  return undefined;
}

/**
 * An op on the gradient path with no gradient rule: the op, its node and where it lies; whether
 * anything the user sets keeps it off the path; the ops that have a rule; and, last, that a rule is a
 * change to the engine's code.
 */
function noGradientRule(e: UnsupportedGradientError, ctx: GradientBuildContext): string {
  // an op with a rule for its other forms (a Conv of group 1) says which of its forms has none
  const what =
    e.detail === undefined
      ? `is a ${e.opType}, an op the engine cannot differentiate`
      : `is a ${e.opType} of a form the engine cannot differentiate (${e.detail})`;
  const use = e.detail === undefined ? "made of these ops" : `whose ${e.opType} the engine differentiates`;
  const rule = e.detail === undefined ? `A rule for ${e.opType}` : `A rule for this ${e.opType}`;
  return (
    `${ctx.subject}: node "${e.nodeName}" ${what}${ctx.where(e.nodeName)}, and it lies on ${ctx.path}; ` +
    `${ctx.avoid}. The ops the engine differentiates (docs/gradients.md lists them, and what of their ` +
    `forms it does not): ${supportedGradientOps().join(", ")}; use a model ${use}. ` +
    `${rule} is a change to sfprompt's engine, not to ${ctx.notTo} (docs/gradients.md, "Adding a ` +
    'gradient rule")'
  );
}

/**
 * A rule that needs a tensor's rank, which the engine's shape inference (from the model's inputs,
 * op by op) left unknown: an input of unknown rank, or an op before it whose output shape the engine
 * does not infer. What to change is the model.
 */
function unknownRank(e: UnknownRankError, ctx: GradientBuildContext): string {
  return (
    `${ctx.subject}: the engine cannot build ${ctx.graphs}: the rank of tensor "${e.value}", read by ` +
    `node "${e.nodeName}" (${e.opType})${ctx.where(e.nodeName)}, is unknown: the engine infers each ` +
    "tensor's shape from the model's inputs, op by op, and a model input of unknown rank or an op before " +
    "it whose output shape the engine does not infer leaves it unknown. Give the model's inputs their " +
    "shapes (only the batch dimension symbolic) and make this tensor with ops whose output shapes the " +
    `engine infers; inferring more ops' shapes is a change to sfprompt's engine, not to ${ctx.notTo}`
  );
}

/** A tensor of the model named as the gradient graphs name one of their own (grad_<tensor>). */
function nameTaken(e: GradientNameTakenError, ctx: GradientBuildContext): string {
  const of = e.tensorName.slice("grad_".length);
  return (
    `${ctx.subject}: the model has a tensor named "${e.tensorName}"${ctx.whereTensor(e.tensorName)}, the ` +
    `name the gradient graphs give the gradient of "${of}": rename that tensor in the model (in the node ` +
    "that makes it and in every node that reads it)"
  );
}

/** The split's parenthesis: why no split keeps an op past the prompt off the gradient path. */
export const ALL_PARTITIONS_DIFFERENTIATED =
  "(the head, the body, whose input gradient goes back to the head, and the tail are all " +
  "differentiated: only the ops before the prompt, the embeddings, are not)";

type SplitNode = SplitModel["head"]["graph"]["nodes"][number];

/** The partition ("head", "body", "tail") of the split holding a node that `is`, if one does. */
export function partitionOf(s: SplitModel, is: (n: SplitNode) => boolean): string | undefined {
  const parts: Array<[string, SplitModel["head"]]> = [
    ["head", s.head],
    ["body", s.body],
    ["tail", s.tail],
  ];
  return parts.find(([, m]) => m.graph.nodes.some(is))?.[0];
}

/**
 * The split prepareBundle made of `model`, made again for an error's message (which partition holds
 * the node it names); undefined when the model was not read or does not split.
 */
export function splitForMessage(model: Model | undefined, options: SplitOptions): SplitModel | undefined {
  if (model === undefined) return undefined;
  try {
    return splitModel(model, options);
  } catch {
    // the split itself failed: that error is the one told, and it names no node to place
    return undefined;
  }
}

/**
 * The context's `where` and `whereTensor` for a split: ", in the body as <cut> cuts the model" (`cut`
 * says what chose the split: "spec.model.split", "--head-blocks 1"); "" without a split or for a node
 * none of its partitions holds.
 */
export function splitWhere(
  split: SplitModel | undefined,
  cut: string,
): Pick<GradientBuildContext, "where" | "whereTensor"> {
  const say = (part: string | undefined): string =>
    part === undefined ? "" : `, in the ${part} as ${cut} cuts the model`;
  return {
    where: (node) => say(split === undefined ? undefined : partitionOf(split, (n) => n.name === node)),
    whereTensor: (t) =>
      say(split === undefined ? undefined : partitionOf(split, (n) => n.outputs.includes(t))),
  };
}

/**
 * The job's field and message for an error of the gradient build of the job `c`'s model, read at
 * `path` (an op the engine cannot differentiate, a tensor whose rank it cannot infer, a grad_<name>
 * the model already has), or undefined for another error: under the field of spec.model.source that
 * gives the model (spec.model.source for a built-in one); `split` (the job's split of that model)
 * tells the partition of the node. No spec.model.split keeps an op off the gradient path (the prompt
 * enters after the embeddings, and the head, the body's input gradient and the tail are all
 * differentiated).
 */
export function jobGradientRefusal(
  cause: unknown,
  c: RunConfig,
  path: string,
  split?: SplitModel,
): JobSplitRefusal | undefined {
  const { field, subject } = modelNamed(c, path);
  const detail = gradientBuildMessage(cause, {
    subject,
    path: "the gradient path the training needs",
    graphs: "the gradient graphs the training needs",
    avoid: `no spec.model.split keeps it off that path ${ALL_PARTITIONS_DIFFERENTIATED}`,
    notTo: "the job",
    ...splitWhere(split, "spec.model.split"),
  });
  return detail === undefined ? undefined : { field, detail };
}

/** The field of spec.model.source that gives the model read at `path`, and how the message names it. */
function modelNamed(c: RunConfig, path: string): { field: string; subject: string } {
  const s = c.model.source;
  if (s.path !== undefined) return { field: "spec.model.source.path", subject: path };
  const field = "spec.model.source";
  if (s.persistentVolumeClaim !== undefined)
    return {
      field: `${field}.persistentVolumeClaim`,
      subject: `${s.persistentVolumeClaim.path} on claim ${s.persistentVolumeClaim.claimName} (${path} here)`,
    };
  if (s.configMap !== undefined)
    return {
      field: `${field}.configMap`,
      subject: `key ${s.configMap.key} of ConfigMap ${s.configMap.name} (${path} here)`,
    };
  return { field, subject: `builtin: ${s.builtin ?? "demo"} (${path})` };
}
