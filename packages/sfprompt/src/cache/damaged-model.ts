// A built-in model's cached copy (the demo's, MiniLM's: model.onnx and card.json) read by fillOnce,
// and one that is damaged (a model cut short by a full volume or an interrupted copy, overwritten; a
// card that does not read): found by reading the model's structure, not its weights, and replaced
// under the fill-once lock by callers that build it again themselves (the images, ADR 0017
// amendments 32 and 34). One implementation for both caches; each gives its card check (CardCheck).
// A file of the copy this process's user may not read is no damage: it is refused (amendment 35).
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "@sfprompt/api";
import { OnnxIoError, readModelOutline } from "@sfprompt/engine";
import { unreadableDetail } from "../runtime/unreadable-path.js";
import { fillOnce, type FillOnceRequest } from "./fill-once.js";

/** A built-in model's cached copy: its ONNX file and, beside it, the card that says what it is. */
export const MODEL_FILE = "model.onnx";
export const CARD_FILE = "card.json";

/**
 * What a damaged cached model's error tells: the command that removes its folder, and only it, so
 * that the next use builds it again (ADR 0016 amendment 51; the demo and MiniLM caches alike).
 */
export function rebuildHint(dir: string): string {
  return `remove the folder (rm -rf ${shellQuote(dir)}) so that the model is built again`;
}

/**
 * "<file> cannot be read by this process's user (uid, gid; EACCES): make the folder and everything in
 * it readable by uid … <where>: chmod -R a+rX <dir> (…); or remove the folder (rm -rf <dir>) so that
 * the model is built again" when `cause`, met reading the cached copy in `dir`, is a permission
 * error; else undefined. Building again does not mend another user's files (ADR 0017 amendment 35).
 */
export function unreadableCopyDetail(dir: string, cause: unknown, where: string): string | undefined {
  const unreadable = unreadableDetail({ path: dir, kind: "folder", where }, cause);
  return unreadable === undefined ? undefined : `${unreadable}; or ${rebuildHint(dir)}`;
}

/** Where the caches' own refusals say a permission is fixed; a pod's entry point says it for a volume. */
const ON_THIS_MACHINE = "on this machine";

/** A damaged copy renamed aside whose files this process could not remove. */
export interface LeftAside {
  readonly dir: string;
  /** The system's error, in words. */
  readonly error: string;
}

/**
 * fillOnce's install for a folder that may hold a damaged copy: the copy is renamed aside (a folder
 * is not renamed over one that holds files), the filled `tmp` renamed into place, the old one removed.
 * One whose files cannot be removed (another user's, in a folder this one may not write) stays aside
 * as `<dir>.damaged-<pid>` and is returned, for the caller to tell: the new copy is in place.
 */
export function replaceFolder(tmp: string, dir: string): LeftAside | undefined {
  const aside = `${dir}.damaged-${process.pid}`;
  try {
    renameSync(dir, aside);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw cause;
    renameSync(tmp, dir);
    return undefined;
  }
  renameSync(tmp, dir);
  try {
    rmSync(aside, { recursive: true, force: true });
    return undefined;
  } catch (cause) {
    return { dir: aside, error: String(cause) };
  }
}

/** What is wrong with a cached card, without what to do, and the error that found it. */
export interface CardDamage {
  readonly detail: string;
  readonly cause: unknown;
}

/** How a built-in model's cache reads its card: what is wrong with one, and the cache's error naming it. */
export interface CardCheck {
  /** What is wrong with a card whose text is `text` (not JSON, not this model's card); undefined when it reads. */
  readonly damage: (text: string) => CardDamage | undefined;
  /** The cache's error for `path`, the card or the copy's folder (DemoCacheError, MinilmCacheError). */
  readonly error: (path: string, detail: string, options?: ErrorOptions) => Error;
}

/** Whether the cached copy in `dir` has both its files. */
function whole(dir: string): boolean {
  return existsSync(join(dir, MODEL_FILE)) && existsSync(join(dir, CARD_FILE));
}

/**
 * The text of the copy's card, else what is wrong with it (a folder there, an I/O error). A card this
 * process's user may not read is refused with the file, the user and the chmod (the cache's error
 * naming the folder): no damage to build again over.
 */
function readCard(dir: string, check: CardCheck): { text: string } | CardDamage {
  try {
    return { text: readFileSync(join(dir, CARD_FILE), "utf8") };
  } catch (cause) {
    const unreadable = unreadableCopyDetail(dir, cause, ON_THIS_MACHINE);
    if (unreadable !== undefined) throw check.error(dir, unreadable, { cause });
    return { detail: `cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, cause };
  }
}

/** What is wrong with the card `read` gave (check.damage of its text); undefined when it reads. */
function cardDamage(read: { text: string } | CardDamage, check: CardCheck): CardDamage | undefined {
  return "text" in read ? check.damage(read.text) : read;
}

/**
 * What is damaged in the copy's model (the engine's message), undefined when it reads; a model this
 * process's user may not read is refused as the card is.
 */
function copyModelDamage(dir: string, check: CardCheck): string | undefined {
  const path = join(dir, MODEL_FILE);
  try {
    readModelOutline(path);
    return undefined;
  } catch (cause) {
    const unreadable = unreadableCopyDetail(dir, cause, ON_THIS_MACHINE);
    if (unreadable !== undefined) throw check.error(dir, unreadable, { cause });
    if (cause instanceof OnnxIoError) return cause.message;
    throw cause;
  }
}

/**
 * What is damaged in the cached copy in `dir`, which has both its files: its card (the cache's error
 * message, without the rm), else its model (the engine's message); undefined when both read.
 */
function copyDamage(dir: string, check: CardCheck): string | undefined {
  const card = cardDamage(readCard(dir, check), check);
  if (card !== undefined) return check.error(join(dir, CARD_FILE), card.detail).message;
  return copyModelDamage(dir, check);
}

/**
 * The parsed card of the cached copy in `dir`, for fillOnce's `read`; undefined when the copy lacks a
 * file or, with `rebuildDamaged` (the images), when its card or model is damaged, for the fill to build
 * it again (ADR 0017 amendments 32 and 34). Without it a card that does not read is refused with the
 * rm that mends it, whatever the model. A card (or, with `rebuildDamaged`, a model) this user may not
 * read is refused either way, with the chmod (amendment 35).
 */
export function readCachedCard(dir: string, check: CardCheck, rebuildDamaged: boolean): unknown {
  if (!whole(dir)) return undefined;
  const read = readCard(dir, check);
  const card = cardDamage(read, check);
  if (card !== undefined) {
    if (rebuildDamaged) return undefined;
    const detail = `${card.detail}; ${rebuildHint(dir)}`;
    throw check.error(join(dir, CARD_FILE), detail, { cause: card.cause });
  }
  if (rebuildDamaged && copyModelDamage(dir, check) !== undefined) return undefined;
  return "text" in read ? (JSON.parse(read.text) as unknown) : undefined;
}

/**
 * Under the fill's lock, looked at again: what is damaged in the copy in `dir` that this fill replaces
 * (with `rebuildDamaged` only; none for a copy that lacks a file).
 */
export function damageReplaced(dir: string, check: CardCheck, rebuildDamaged: boolean): string | undefined {
  return rebuildDamaged && whole(dir) ? copyDamage(dir, check) : undefined;
}

/**
 * fillOnce whose install replaces a folder there (a damaged copy, or one without its card) rather than
 * renaming over it (replaceFolder); the result carries `damagedLeft` when the old copy stayed aside.
 */
export async function fillReplacing<T extends { readonly damagedLeft?: LeftAside }>(
  req: Omit<FillOnceRequest<T>, "install">,
): Promise<T> {
  let left: LeftAside | undefined;
  const result = (await fillOnce<T>({
    ...req,
    install: (tmp, to) => {
      left = replaceFolder(tmp, to);
    },
  })) as T;
  return left === undefined ? result : { ...result, damagedLeft: left };
}
