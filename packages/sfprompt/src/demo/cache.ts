// The demo model on disk: ~/.cache/sfprompt/models/<recipe hash>/{model.onnx, card.json}, built and
// pre-trained on first use. A lock file keeps concurrent first uses (server and clients) from
// training twice; the folder is written under a temporary name and renamed when complete.
import { writeFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { writeModel } from "@sfprompt/engine";
import { z } from "zod";
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
import { DemoCacheError } from "./errors.js";
import { pretrainDemoModel, type PretrainOptions } from "./pretrain.js";
import { DEMO_RECIPE, recipeHash, type DemoRecipe } from "./recipe.js";

// unreadableCopyDetail: for the images, which say a cached copy's chmod for a volume (ADR 0017 amendment 35)
export { CARD_FILE, MODEL_FILE, rebuildHint, unreadableCopyDetail } from "../cache/damaged-model.js";

/** What the card next to the weights says: where they come from and how good they are. */
export interface DemoModelCard {
  readonly name: string;
  readonly hash: string;
  readonly provenance: string;
  readonly recipe: DemoRecipe;
  readonly data: { readonly dataset: string; readonly trainSamples: number; readonly testSamples: number };
  readonly epochs: number;
  readonly testAccuracy: number;
  readonly finalTrainLoss: number;
  readonly seconds: number;
  readonly createdAt: string;
  readonly host: string;
}

export interface DemoModel {
  readonly path: string;
  readonly card: DemoModelCard;
  /** True when this call pre-trained it (false: it came from the cache). */
  readonly built: boolean;
  /** What was wrong with the cached copy (card.json, else model.onnx) this call pre-trained again over (rebuildDamaged). */
  readonly damaged?: string;
  /** The damaged copy's folder, renamed aside, when its files could not be removed. */
  readonly damagedLeft?: LeftAside;
}

export interface EnsureDemoOptions extends PretrainOptions {
  readonly recipe?: DemoRecipe;
  /** Cache root; default $SFPROMPT_CACHE or ~/.cache/sfprompt. */
  readonly cacheDir?: string;
  /** Called once before pre-training starts (not when the model is cached). */
  readonly onBuildStart?: (dir: string) => void;
  /**
   * Pre-train again, under the lock, over a cached model.onnx that does not read as an ONNX model (cut
   * short, overwritten) or a card.json that is not a card, the damaged copy replaced: the images,
   * which restart into the same failure with no one to remove it. Without it the cached model file is
   * returned as it is (the CLI's model check refuses it with the command that removes it), and a card
   * that is no card is refused with that command.
   */
  readonly rebuildDamaged?: boolean;
}

/** Root of the project's cache. */
export function sfpromptCacheDir(): string {
  return process.env.SFPROMPT_CACHE ?? join(homedir(), ".cache", "sfprompt");
}

/** Folder of a recipe's model in the cache. */
export function demoModelDir(recipe: DemoRecipe = DEMO_RECIPE, cacheDir = sfpromptCacheDir()): string {
  return join(cacheDir, "models", `${recipe.name}-${recipeHash(recipe)}`);
}

/**
 * What ensureDemoModel would stop with before it pre-trains into its cache folder (a folder above it
 * that cannot be made or written in: fillProblem), found without writing anything; undefined when
 * it could. For the checks before a start of a model not cached yet.
 */
export function demoCacheProblem(
  recipe: DemoRecipe = DEMO_RECIPE,
  cacheDir = sfpromptCacheDir(),
): CacheDirError | undefined {
  return fillProblem(demoModelDir(recipe, cacheDir));
}

/**
 * The card fields that runs read (the progress line, the summary): a card without them, valid JSON
 * nonetheless (written by hand, or cut at a brace), ended in an internal error ("Cannot read
 * properties of undefined") at the first run that reused the model.
 */
const CardRead = z.object({
  data: z.object({ trainSamples: z.number(), testSamples: z.number() }),
  epochs: z.number(),
  testAccuracy: z.number(),
  seconds: z.number(),
});

/**
 * What is wrong with a cached card (not JSON, not a demo model card), without what to do; undefined
 * when it reads as a card.
 */
function cardDamage(text: string): CardDamage | undefined {
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch (cause) {
    return { detail: "is not valid JSON", cause };
  }
  const checked = CardRead.safeParse(card);
  if (checked.success) return undefined;
  const issue = checked.error.issues[0];
  const where = issue?.path.join(".") || "(root)";
  return {
    detail: `is not a demo model card (${where}: ${issue?.message ?? "invalid"})`,
    cause: checked.error,
  };
}

/** The demo cache's card: a demo model card, told as DemoCacheError. */
const DEMO_CARD: CardCheck = {
  damage: cardDamage,
  error: (path, detail, options) => new DemoCacheError(path, detail, options),
};

/** The demo model's path, pre-training it first when the cache does not have it. */
export async function ensureDemoModel(options: EnsureDemoOptions = {}): Promise<DemoModel> {
  const recipe = options.recipe ?? DEMO_RECIPE;
  const dir = demoModelDir(recipe, options.cacheDir);
  const rebuild = options.rebuildDamaged === true;
  const model = join(dir, MODEL_FILE);
  return fillReplacing<DemoModel>({
    dir,
    read: () => {
      const card = readCachedCard(dir, DEMO_CARD, rebuild) as DemoModelCard | undefined;
      return card === undefined ? undefined : { path: model, card, built: false };
    },
    ...(options.signal ? { signal: options.signal } : {}),
    fill: async (tmp) => {
      const damaged = damageReplaced(dir, DEMO_CARD, rebuild);
      options.onBuildStart?.(dir);
      const r = await pretrainDemoModel(recipe, options);
      writeModel(join(tmp, MODEL_FILE), r.model);
      const card: DemoModelCard = {
        name: recipe.name,
        hash: recipeHash(recipe),
        provenance:
          "Pre-trained by the sfprompt project itself with its own ONNX engine (no third-party weights): " +
          "built in code, trained from random initialisation on Fashion-MNIST.",
        recipe,
        data: {
          dataset: recipe.pretraining.dataset,
          trainSamples: r.trainSamples,
          testSamples: r.testSamples,
        },
        epochs: recipe.pretraining.epochs,
        testAccuracy: r.testAccuracy,
        finalTrainLoss: r.finalLoss,
        seconds: r.seconds,
        createdAt: new Date().toISOString(),
        host: hostname(),
      };
      writeFileSync(join(tmp, CARD_FILE), `${JSON.stringify(card, null, 2)}\n`);
      return { path: model, card, built: true, ...(damaged === undefined ? {} : { damaged }) };
    },
  });
}
