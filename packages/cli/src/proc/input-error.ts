// A local server or client process's input that the job cannot give (its data, its tokenizer, the
// split of its data among the clients): logged as `config.invalid` naming the job's field, as the
// images log it (images/shell JobInputError), rather than as a crash of the process.
import type { RunConfig } from "@sfprompt/api";
import {
  ClassCountError,
  JobInputError,
  JobPartitionError,
  RunConfigError,
  isVocabError,
  minilmVocabularyDetail,
  sfpromptCacheDir,
} from "@sfprompt/core";

export { JobInputError };

/**
 * A vocabulary error met reading builtin minilm's own vocab.txt (the job names no
 * tokenizer.vocabulary) as an error of spec.model.source, the field the job's author wrote; else
 * undefined. The file is one of minilm's cached files, fetched again once its folder is deleted.
 */
export function minilmVocabularyError(c: RunConfig, cause: unknown): JobInputError | undefined {
  const own = c.model.source.builtin === "minilm" && c.model.tokenizer?.vocabulary === undefined;
  if (!own || !isVocabError(cause)) return undefined;
  const cache = sfpromptCacheDir();
  return new JobInputError(
    "spec.model.source",
    `builtin: minilm: ${minilmVocabularyDetail(cause.message, cache, "SFPROMPT_CACHE")}`,
    { cause },
  );
}

/**
 * `cause` as the job's input error when it is one of the errors that name a job field (a refused
 * config, a split the data cannot give, a class count, a vocabulary that cannot be read); undefined
 * for any other error.
 */
export function jobInputErrorOf(cause: unknown): JobInputError | undefined {
  if (cause instanceof JobInputError) return cause;
  if (
    cause instanceof RunConfigError ||
    cause instanceof JobPartitionError ||
    cause instanceof ClassCountError
  )
    return new JobInputError(cause.field, cause.detail, { cause });
  if (isVocabError(cause))
    return new JobInputError("spec.model.tokenizer.vocabulary", cause.message, { cause });
  return undefined;
}
