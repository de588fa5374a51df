// The `sfprompt prepare` command that writes a job's partition bundle, as a message suggests it: the
// job's model file and split as prepare's flags, each path quoted for bash (ADR 0017 amendment 29).
// A hint that named only `--out DIR` could not be run (prepare needs the model and the split).
import { shellQuote, type RunConfig } from "@sfprompt/api";
import { splitOptionsOf } from "./job-split.js";

/**
 * `sfprompt prepare --model M --head-blocks K --prompt-length P [--num-classes C] [--cut-head T
 * --cut-tail T] [--pooling MODE] [--seed N] --out DIR` for the job `c`, the model being `model` (default:
 * spec.model.source.path); undefined when the job names no model file (a built-in model, which only
 * sfprompt run and the images build).
 */
export function prepareCommandOf(c: RunConfig, out: string, model = c.model.source.path): string | undefined {
  if (model === undefined) return undefined;
  const o = splitOptionsOf(c);
  const words = [
    "sfprompt prepare",
    `--model ${shellQuote(model)}`,
    `--head-blocks ${o.headBlocks}`,
    `--prompt-length ${o.promptLength}`,
    ...(o.numClasses === undefined ? [] : [`--num-classes ${o.numClasses}`]),
    ...(o.cutHead === undefined ? [] : [`--cut-head ${shellQuote(o.cutHead)}`]),
    ...(o.cutTail === undefined ? [] : [`--cut-tail ${shellQuote(o.cutTail)}`]),
    ...(o.pooling === undefined ? [] : [`--pooling ${o.pooling}`]),
    ...(o.seed === undefined ? [] : [`--seed ${o.seed}`]),
    `--out ${shellQuote(out)}`,
  ];
  return words.join(" ");
}
