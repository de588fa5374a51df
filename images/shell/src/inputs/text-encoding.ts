// The job's text encoding for the bundle's model, after checking that model and data are of one kind
// (as `sfprompt run` does before it starts anything): a tokenizer on an image model, none on a text
// model, text data for an image model or a vocabulary that cannot be read is the job's to fix.
import type { RunConfig } from "@sfprompt/api";
import {
  RunConfigError,
  checkJobInputs,
  isVocabError,
  jobTextEncoding,
  type PartitionBundle,
  type TextEncoding,
} from "@sfprompt/core";
import { JobInputError } from "./errors.js";
import { withMinilmFiles } from "./minilm-files.js";

/**
 * The token encoding the job's data is read with for `bundle`'s model (undefined: an image model);
 * throws JobInputError naming the job's field when the job's model, tokenizer and data disagree.
 */
export async function jobInputEncoding(
  config: RunConfig,
  bundle: PartitionBundle,
  cacheDir: string,
): Promise<TextEncoding | undefined> {
  try {
    checkJobInputs(config, bundle);
    // builtin minilm's vocabulary is one of its files (cached with the model when the bundle was made here)
    const minilmVocab =
      config.model.source.builtin === "minilm" && config.model.tokenizer?.vocabulary === undefined;
    const encoding = (): Promise<TextEncoding | undefined> => jobTextEncoding(config, cacheDir);
    return await (minilmVocab ? withMinilmFiles(cacheDir, encoding) : encoding());
  } catch (cause) {
    if (cause instanceof RunConfigError) throw new JobInputError(cause.field, cause.detail, { cause });
    if (isVocabError(cause))
      throw new JobInputError("spec.model.tokenizer.vocabulary", cause.message, { cause });
    throw cause;
  }
}
