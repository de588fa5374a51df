// One split of a job's data source, as every process of the job reads it: images or feature vectors
// for image models, token ids (tokenized with the job's WordPiece vocabulary) for text models.
import { TEXT_DATASETS, TEXT_MODELS, type RunConfig } from "@sfprompt/api";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import { loadBuiltinDataset } from "../datasets/builtin.js";
import type { Dataset } from "../datasets/dataset.js";
import { JsonlKindError, JsonlMixedKindError } from "../datasets/errors.js";
import { loadDebianSections } from "../datasets/debian-sections.js";
import { loadImageFolder } from "../datasets/image-folder.js";
import { loadJsonlFeatures, loadJsonlTokens } from "../datasets/jsonl.js";
import { ensureMinilmFiles } from "../minilm/fetch.js";
import { WordPieceTokenizer } from "../text/wordpiece.js";
import { agreedClassIds } from "./class-ids.js";
import { RunConfigError } from "./errors.js";

export type DataSource = RunConfig["data"]["source"];

/** How a text job turns text into fixed-length id rows. */
export interface TextEncoding {
  readonly tokenize: (text: string) => ArrayLike<number>;
  readonly seqLen: number;
  readonly padId: number;
}

export interface SourceOptions {
  /** Set for text models: text sources are tokenized with it, image sources refused. */
  readonly text?: TextEncoding;
  /** Image size the model takes (built-in image sets and folders are resized to it). */
  readonly resize?: { height: number; width: number };
  /** Channels to decode folder images to when the source does not say. */
  readonly mode?: "grayscale" | "rgb";
  /** Shape of one sample the model takes, checked line by line in JSONL features. */
  readonly shape?: readonly number[];
  /** Only the labels matter (a split check): folder images are found and labelled, not decoded. */
  readonly labelsOnly?: boolean;
}

/** True when the job's model takes token ids: builtin minilm, or a model with a tokenizer section. */
export function isTextJob(config: RunConfig): boolean {
  const builtin = config.model.source.builtin;
  return (builtin !== undefined && TEXT_MODELS.includes(builtin)) || config.model.tokenizer !== undefined;
}

/** The job's WordPiece vocabulary file: model.tokenizer.vocabulary, else builtin minilm's own. */
export async function jobVocabulary(config: RunConfig, cacheDir?: string): Promise<string> {
  const v = config.model.tokenizer?.vocabulary;
  if (v !== undefined) return v;
  if (config.model.source.builtin === "minilm") {
    return (await ensureMinilmFiles(cacheDir === undefined ? {} : { cacheDir })).vocab;
  }
  throw new RunConfigError(
    "spec.model.tokenizer.vocabulary",
    "is required for a text model from a file: give the path of its vocab.txt",
  );
}

/** The job's text encoding (undefined for image jobs). */
export async function jobTextEncoding(
  config: RunConfig,
  cacheDir?: string,
): Promise<TextEncoding | undefined> {
  if (!isTextJob(config)) return undefined;
  const t = config.model.tokenizer;
  const tokenizer = await WordPieceTokenizer.fromVocabFile(await jobVocabulary(config, cacheDir), {
    lowercase: t?.lowercase ?? true,
  });
  if (tokenizer.padId !== 0) {
    // bundles mask id 0 (PartitionBundle's padId default) without reading the vocabulary
    throw new RunConfigError(
      "spec.model.tokenizer.vocabulary",
      `has [PAD] at id ${tokenizer.padId}; the runtime supports vocabularies with [PAD] at id 0 (BERT's)`,
    );
  }
  const seqLen = t?.maxLength ?? 32;
  return { tokenize: (s) => tokenizer.encode(s, seqLen), seqLen, padId: tokenizer.padId };
}

function kindError(field: string, what: string, text: boolean): RunConfigError {
  return new RunConfigError(
    field,
    text
      ? `${what} holds images, but the model takes text; use text data (builtin: debian-sections, or JSONL lines with "text")`
      : `${what} holds text, but the model takes images; use a text model (model.source.builtin: minilm, or model.tokenizer with a BERT-family ONNX file)`,
  );
}

/**
 * A JSONL source whose first line is of the other kind than the model takes, as the job's error: the
 * field of the source, with the model's field and what to change in either.
 */
function jsonlKindError(field: string, e: JsonlKindError): RunConfigError {
  return new RunConfigError(
    field,
    e.holds === "text"
      ? `jsonl ${e.source} holds text ("${e.foundField}"), but the model (spec.model.source) takes images or number features; give lines with "${e.wantedField}": [numbers in the model's input layout] (jsonl.inputField names another field), or use a text model (model.source.builtin: minilm, or model.tokenizer with a BERT-family ONNX file)`
      : `jsonl ${e.source} holds number features ("${e.foundField}"), but the model (spec.model.source with spec.model.tokenizer) takes text; give lines with "${e.wantedField}": "the text" (jsonl.inputField names another field; or "ids", token ids), or use an image model without model.tokenizer`,
    { cause: e },
  );
}

/**
 * A JSONL source whose first line is of the model's kind and a later line of the other, as the job's
 * error: the source's field, the line and what every line needs.
 */
function jsonlMixedError(field: string, e: JsonlMixedKindError): RunConfigError {
  const [found, wanted] = e.holds === "text" ? ["text", "number features"] : ["number features", "text"];
  return new RunConfigError(
    field,
    `jsonl ${e.path}:${e.line} holds ${found} ("${e.foundField}"), but line ${e.firstLine}, the file's first sample, holds ${wanted} ("${e.wantedField}"), which the model (spec.model.source) takes; one file holds one kind: give line ${e.line} "${e.wantedField}" or remove it`,
    { cause: e },
  );
}

/**
 * Checks, before any process starts, that the job's model and data are of one kind: a model that
 * takes token ids has a tokenizer section (builtin minilm implies one) and text data, an image model
 * neither. Loading checks the rest (shapes, labels).
 */
export function checkJobInputs(config: RunConfig, bundle: Pick<PartitionBundle, "isText">): void {
  checkModelTokenizer(config, bundle);
  checkDataKinds(config);
}

/**
 * The model's part of checkJobInputs: a model that takes token ids has a tokenizer section (builtin
 * minilm implies one), an image model none. sfprompt run asks it of the model's graph before it
 * splits it (its data's kinds are checked with the split among the clients).
 */
export function checkModelTokenizer(config: RunConfig, bundle: Pick<PartitionBundle, "isText">): void {
  const text = isTextJob(config);
  if (bundle.isText && !text) {
    throw new RunConfigError(
      "spec.model.tokenizer",
      "is missing: the model takes token ids (input_ids, attention_mask); set model.tokenizer with its vocabulary",
    );
  }
  if (!bundle.isText && text) {
    throw new RunConfigError("spec.model.tokenizer", "is set, but the model takes images; remove it");
  }
}

/**
 * Throws RunConfigError naming spec.data.source or spec.data.evalSource when a source is of the other
 * kind than the job's model takes (isTextJob): a built-in set or an image folder, told from the job
 * alone (no file read, no model opened). A JSONL file's kind is told by reading it (loadJobSource).
 */
export function checkDataKinds(config: RunConfig): void {
  const text = isTextJob(config);
  const sources: Array<[DataSource | undefined, string]> = [
    [config.data.source, "spec.data.source"],
    [config.data.evalSource, "spec.data.evalSource"],
  ];
  for (const [s, field] of sources) {
    if (s === undefined) continue;
    if (s.builtin !== undefined && TEXT_DATASETS.includes(s.builtin) !== text)
      throw kindError(field, `builtin: ${s.builtin}`, text);
    if (s.imageFolder !== undefined && text) throw kindError(field, "imageFolder", text);
  }
}

/** Whether `e` is loadJobSource's refusal of a JSONL file of the other kind than the model takes. */
export function isJsonlKindRefusal(e: unknown): e is RunConfigError {
  return (
    e instanceof RunConfigError &&
    (e.cause instanceof JsonlKindError || e.cause instanceof JsonlMixedKindError)
  );
}

/** Loads `split` of `source`; `field` names the source in errors (spec.data.source, ...). */
export async function loadJobSource(
  config: RunConfig,
  source: DataSource,
  split: "train" | "test",
  field: string,
  o: SourceOptions = {},
): Promise<Dataset> {
  const classNames = config.classes.labels;
  const isText = o.text !== undefined;
  const kind = (what: string): RunConfigError => kindError(field, what, isText);
  if (source.builtin !== undefined) {
    if (TEXT_DATASETS.includes(source.builtin) !== isText) throw kind(`builtin: ${source.builtin}`);
    if (o.text !== undefined) return loadDebianSections({ split, ...o.text, dtype: "int64" });
    return loadBuiltinDataset(source.builtin as Exclude<typeof source.builtin, "debian-sections">, {
      split,
      ...(o.resize ? { resize: o.resize } : {}),
    });
  }
  if (source.imageFolder !== undefined) {
    if (isText) throw kind("imageFolder");
    const path = source.imageFolder.path;
    const mode = source.imageFolder.mode ?? o.mode;
    const ds = await loadImageFolder(path, {
      ...(mode ? { mode } : {}),
      ...(o.resize ? { resize: o.resize } : {}),
      ...(classNames ? { classNames } : {}),
      ...(o.labelsOnly === true ? { labelsOnly: true } : {}),
    });
    return agreedClassIds(config, ds, { where: `${field} (imageFolder ${path})`, kind: "imageFolder" });
  }
  if (source.jsonl !== undefined) {
    const j = source.jsonl;
    let ds: Dataset;
    try {
      ds =
        o.text !== undefined
          ? await loadJsonlTokens(j.path, {
              labelField: j.labelField,
              ...(j.inputField ? { inputField: j.inputField } : {}),
              ...o.text,
              dtype: "int64",
              ...(classNames ? { classNames } : {}),
            })
          : await loadJsonlFeatures(j.path, {
              labelField: j.labelField,
              ...(o.shape ? { shape: o.shape } : {}),
              ...(j.inputField ? { inputField: j.inputField } : {}),
              ...(classNames ? { classNames } : {}),
            });
    } catch (cause) {
      if (cause instanceof JsonlKindError) throw jsonlKindError(field, cause);
      if (cause instanceof JsonlMixedKindError) throw jsonlMixedError(field, cause);
      throw cause;
    }
    return agreedClassIds(config, ds, { where: `${field} (jsonl ${j.path})`, kind: "jsonl" });
  }
  throw new RunConfigError(field, "names no data source: set builtin, imageFolder or jsonl");
}

/** The bundle options a text job's processes open their bundle with (none for image jobs). */
export function textBundleConfig(config: RunConfig): { sequenceLength?: number } {
  return isTextJob(config) ? { sequenceLength: config.model.tokenizer?.maxLength ?? 32 } : {};
}
