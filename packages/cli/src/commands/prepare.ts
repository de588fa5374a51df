// `sfprompt prepare`: splits a model into the head/body/tail partition bundle with prompts, a fresh
// classifier and every gradient graph (see @sfprompt/engine prepareBundle, docs/partition-bundle.md).
import { prepareBundle, readModel, type Model, type Pooling } from "@sfprompt/engine";
import { splitForMessage } from "@sfprompt/core";
import type { Command } from "../command.js";
import type { ParsedFlags } from "../flags.js";
import { UsageError } from "../errors.js";
import { removeMadeDirs } from "../make-dirs.js";
import { flagsGradientError } from "../gradient-build-error.js";
import { modelFileError } from "../model-file-error.js";
import { makeOutDir } from "../out-dir.js";

function wholeNumber(flags: ParsedFlags, name: string, min: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  // digits only, as run's --rounds: Number() would also take "1e1" (10) and "0x1" (1)
  const v = /^\d+$/.test(String(raw)) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v) || v < min)
    throw new UsageError(`prepare: --${name} must be a whole number ≥ ${min} (got "${String(raw)}")`);
  return v;
}

/** The flag's value when given, as an object to spread into the options. */
function given<K extends string>(flags: ParsedFlags, flag: string, key: K): Partial<Record<K, string>> {
  const v = flags[flag];
  return v === undefined ? {} : ({ [key]: String(v) } as Partial<Record<K, string>>);
}

/** The split's flags as given, for a message naming where the split put a node. */
function splitFlags(flags: ParsedFlags): string {
  const said = (name: string): string[] =>
    flags[name] === undefined ? [] : [`--${name} ${String(flags[name])}`];
  // --cut-head overrides --head-blocks
  return [
    ...(flags["cut-head"] === undefined ? said("head-blocks") : said("cut-head")),
    ...said("cut-tail"),
  ].join(" ");
}

export const prepareCommand: Command = {
  name: "prepare",
  summary: "split a model into head, body and tail with soft prompts, and write their gradient graphs",
  usage:
    "prepare --model M.onnx --head-blocks K --prompt-length P [--num-classes C] [--cut-head T --cut-tail T] " +
    "[--pooling cls|mean] [--seed N] [--logits NAME] [--no-full] --out DIR",
  flags: [
    { name: "model", placeholder: "M.onnx", description: "the ONNX model to split", required: true },
    {
      name: "head-blocks",
      placeholder: "K",
      description: "transformer blocks in the client's head (the body keeps at least one)",
      required: true,
    },
    {
      name: "prompt-length",
      placeholder: "P",
      description: "soft prompt tokens inserted after the CLS token (0: none)",
      required: true,
    },
    { name: "num-classes", placeholder: "C", description: "replace the classifier with a fresh C-class one" },
    {
      name: "cut-head",
      placeholder: "T",
      description: "tensor where the head ends (overrides --head-blocks)",
    },
    {
      name: "cut-tail",
      placeholder: "T",
      description: "tensor leaving the last block (where the tail starts)",
    },
    {
      name: "pooling",
      placeholder: "MODE",
      description: "what the tail reads: the CLS token or the mean over tokens (needed with --head-blocks 0)",
      choices: ["cls", "mean"],
    },
    {
      name: "seed",
      placeholder: "N",
      description: "seed of the prompt and classifier initialisation (default 0)",
    },
    {
      name: "logits",
      placeholder: "NAME",
      description: "the model output holding the logits (default: logits)",
    },
    {
      name: "no-full",
      boolean: true,
      description: "skip full.onnx and grad/full.onnx (the whole prompted model, for baselines)",
    },
    { name: "out", placeholder: "DIR", description: "the bundle directory to write", required: true },
  ],
  async run(flags, io) {
    const numClasses = wholeNumber(flags, "num-classes", 2);
    const seed = wholeNumber(flags, "seed", 0);
    const headBlocks = wholeNumber(flags, "head-blocks", 0) as number;
    const promptLength = wholeNumber(flags, "prompt-length", 0) as number;
    const out = String(flags["out"]);
    const made = makeOutDir(out);
    const options = {
      model: String(flags["model"]),
      out,
      headBlocks,
      promptLength,
      ...(numClasses === undefined ? {} : { numClasses }),
      ...(seed === undefined ? {} : { seed }),
      ...(flags["pooling"] === undefined ? {} : { pooling: flags["pooling"] as Pooling }),
      ...(flags["no-full"] === true ? { full: false } : {}),
      ...given(flags, "logits", "logits"),
      ...given(flags, "cut-head", "cutHead"),
      ...given(flags, "cut-tail", "cutTail"),
    };
    let manifest: ReturnType<typeof prepareBundle>;
    let loaded: Model | undefined;
    try {
      loaded = readModel(options.model);
      manifest = prepareBundle({ ...options, loaded });
    } catch (error) {
      // a missing model or a split it refuses leaves no bundle folder behind, nor the folders above it
      removeMadeDirs(made, out);
      const split = { split: splitForMessage(loaded, options), flags: splitFlags(flags) };
      throw flagsGradientError(error, options.model, "prepare", split) ?? modelFileError(error, "--model");
    }
    io.out(
      JSON.stringify({
        event: "prepare.written",
        out,
        blocks: manifest.source.blocks?.count ?? null,
        family: manifest.source.blocks?.family ?? null,
        activations: manifest.activations,
        parameters: manifest.parameters.map((p) => ({
          name: p.name,
          partition: p.partition,
          shape: p.shape,
        })),
        files: manifest.partitions.map((p) => p.file),
      }),
    );
    return 0;
  },
};
