// What a user is told when the engine cannot build a model's gradient graphs: an op with no gradient
// rule, a tensor whose rank its shape inference left unknown, a grad_<name> the model already has.
// The engine's own words name no job field or flag, and end in advice for its source tree. One
// builder for sfprompt run and validate (under the job's field) and sfprompt prepare and grad (--model).
import {
  GradientNameTakenError,
  supportedGradientOps,
  UnknownRankError,
  UnsupportedGradientError,
  type SplitModel,
} from "@sfprompt/engine";
import { GradientBuildError } from "./errors.js";

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

/** What sfprompt prepare asked of the split, for its messages: its model's split and the flags that cut it. */
export interface PrepareSplit {
  readonly split?: SplitModel;
  /** The split's flags as given: "--head-blocks 1", "--cut-head T --cut-tail U". */
  readonly flags: string;
}

/**
 * `cause` as sfprompt prepare's or grad's error when it is one of the gradient build (in the flags'
 * words: --model, the split's flags, --wrt), else undefined. For prepare, `split` tells the
 * partition (head, body, tail) of the node or tensor named.
 */
export function flagsGradientError(
  cause: unknown,
  model: string,
  command: "prepare" | "grad",
  split?: PrepareSplit,
): GradientBuildError | undefined {
  const none = (): string => "";
  const ctx: GradientBuildContext =
    command === "prepare"
      ? {
          subject: `--model ${model}`,
          path: "the gradient path the training needs",
          graphs: "the bundle's gradient graphs",
          avoid: `no split (--head-blocks, --cut-head, --cut-tail) keeps it off that path ${ALL_PARTITIONS_DIFFERENTIATED}`,
          notTo: "the command",
          ...splitWhere(split?.split, split?.flags ?? "the split's flags"),
        }
      : {
          subject: `--model ${model}`,
          path: "the gradient path of --wrt's tensors",
          graphs: "the gradient model of --wrt's tensors",
          avoid: "only --wrt tensors whose gradients do not flow through it keep it off that path",
          notTo: "the command",
          where: none,
          whereTensor: none,
        };
  const message = gradientBuildMessage(cause, ctx);
  return message === undefined ? undefined : new GradientBuildError(message, { cause });
}
