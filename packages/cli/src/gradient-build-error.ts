// sfprompt prepare's and grad's errors of the gradient build, in the flags' words (--model, the split's
// flags, --wrt): the message builder is core's (gradient-build-message.ts), shared with the job's
// messages of sfprompt run, validate and the images.
import {
  ALL_PARTITIONS_DIFFERENTIATED,
  gradientBuildMessage,
  splitWhere,
  type GradientBuildContext,
} from "@sfprompt/core";
import type { SplitModel } from "@sfprompt/engine";
import { GradientBuildError } from "./errors.js";

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
