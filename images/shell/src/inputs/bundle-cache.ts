// The image's own cache of prepared bundles (<cache>/bundles/<key>): a copy an earlier start left is
// used when whole and prepared again when damaged (a file gone or cut short, a manifest that is not
// one), under the fill-once lock of the built-in models' cache folders (ADR 0027), so that processes
// sharing the cache (server and client pods on one node) prepare it once and those that start
// meanwhile wait for it. Only what preparing again cannot mend is refused: files this user may not read, a
// folder it may not write (ADR 0017 amendment 26).
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CacheDirError, fillOnce } from "@sfprompt/core";
import {
  MANIFEST_FILE,
  manifestFiles,
  manifestGraphFiles,
  OnnxIoError,
  readModelOutline,
  readPartitionManifest,
} from "@sfprompt/engine";
import type { Logger } from "../logger.js";
import { bundleDamage, damageText, unreadableRefusal } from "./bundle-check.js";

/**
 * The sizes of a cached copy's files, written last into the folder before it is renamed into place:
 * a file cut short since (a full volume, a copy or a cleaner) is found at the next start without
 * reading the graphs.
 */
export const SIZES_FILE = "cached-sizes.json";

export interface CachedBundleRequest {
  /** The copy's folder, `<cache>/bundles/<key>`. */
  readonly dir: string;
  /** Writes the bundle into `tmp` (an empty folder). */
  readonly prepare: (tmp: string) => void;
  /** Fields of its bundle.prepared and bundle.rebuilt events beside dir, why and ms (the model). */
  readonly logFields: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** A damaged cached copy that could not be prepared again: the system's error is its cause. */
export class DamagedCopyError extends Error {
  override readonly name = "DamagedCopyError";
  constructor(
    readonly dir: string,
    /** What is damaged, in words. */
    readonly why: string,
    options: ErrorOptions,
  ) {
    super(`the bundle cached in ${dir} is damaged (${why}) and cannot be prepared again`, options);
  }
}

/**
 * The bundle in `req.dir`: the cached copy when whole, else prepared (once, whoever starts first).
 * A failure to write while replacing a damaged copy is a DamagedCopyError.
 */
export async function cachedBundle(req: CachedBundleRequest): Promise<void> {
  let damaged: string | undefined;
  try {
    await fillCache(req, (why) => (damaged = why));
  } catch (cause) {
    const system =
      cause instanceof CacheDirError || typeof (cause as NodeJS.ErrnoException).syscall === "string";
    if (damaged !== undefined && system) throw new DamagedCopyError(req.dir, damaged, { cause });
    throw cause;
  }
}

/** Where the bundle came from: the cache, or prepared here (over a damaged copy: why). */
type Outcome = { readonly cached: true } | { readonly cached: false; readonly why: string | undefined };

async function fillCache(req: CachedBundleRequest, seen: (why: string) => void): Promise<void> {
  const { dir, logger } = req;
  const started = Date.now();
  const read = (): Outcome | undefined => {
    const why = cachedCopyDamage(dir, logger);
    if (why !== undefined && why !== "none") seen(why);
    return why === undefined ? { cached: true } : undefined;
  };
  const outcome = await fillOnce<Outcome>({
    dir,
    signal: req.signal,
    read,
    fill: (tmp) => {
      // under the lock, looked at again: the copy as this process replaces it
      const why = cachedCopyDamage(dir, logger);
      removeLeftovers(dir, tmp, logger);
      req.prepare(tmp);
      writeSizes(tmp);
      return Promise.resolve({ cached: false, why: why === "none" ? undefined : why });
    },
    install: (tmp) => replace(tmp, dir, logger),
  });
  // told once the copy is in place (a rename that failed is no bundle prepared)
  const fields = { dir, ...req.logFields, ms: Date.now() - started };
  if (outcome.cached) logger.log("info", "bundle.cached", { dir });
  else if (outcome.why === undefined) logger.log("info", "bundle.prepared", fields);
  else logger.log("warn", "bundle.rebuilt", { ...fields, why: outcome.why });
}

/**
 * Why the cached copy in `dir` is not to be used: "none" where there is none (or an empty folder),
 * else what is damaged; undefined when it is whole. Files this user may not read are refused
 * (bundleDamage).
 */
function cachedCopyDamage(dir: string, logger: Logger): string | undefined {
  if (!copyThere(dir)) return "none";
  const damage = bundleDamage(dir, "cached");
  if (damage !== undefined) return damageText(dir, damage);
  return sizesDamage(dir, logger);
}

/**
 * Whether a copy is in `dir`: a folder there that is not empty, with its manifest or not (one
 * without it is a damaged copy, amendment 25). One this user cannot list is bundleDamage's to name.
 */
function copyThere(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch (cause) {
    // not there (ENOENT), or the cache folder is a file (ENOTDIR: preparing names it)
    const code = (cause as NodeJS.ErrnoException).code;
    return code !== "ENOENT" && code !== "ENOTDIR";
  }
}

/**
 * A file whose size is not the one it was written with, in words; undefined when all are. A copy
 * without the sizes file (an earlier image's) is read for its graphs' structure instead
 * (unrecordedDamage). A sizes file this user may not read is refused as the copy's other files are
 * (preparing again does not mend another user's files); one that reads but is not JSON is damage.
 */
function sizesDamage(dir: string, logger: Logger): string | undefined {
  const path = join(dir, SIZES_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return unrecordedDamage(dir, logger);
    const refusal = unreadableRefusal(dir, "cached", cause);
    if (refusal !== undefined) throw refusal;
    return `${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`;
  }
  let sizes: unknown;
  try {
    sizes = JSON.parse(text);
  } catch (cause) {
    return `${path} cannot be read as JSON (${(cause as Error).message})`;
  }
  if (typeof sizes !== "object" || sizes === null) return `${path} holds no file sizes`;
  for (const file of bundleFiles(dir)) {
    const bytes = statSync(join(dir, file)).size;
    const prepared = (sizes as Record<string, unknown>)[file];
    if (bytes !== prepared)
      return `${join(dir, file)} is ${bytes} bytes, ${String(prepared)} when it was prepared`;
  }
  return undefined;
}

/**
 * The damage of a copy an image before the sizes file prepared (ADR 0017 amendment 31): each graph
 * is read for its structure (readModelOutline, no weights), which finds a graph cut short and an
 * external data file shorter than its tensors' ranges; when whole, its sizes are recorded (written
 * beside, renamed in), so that later starts compare sizes. A cache this user cannot write (a
 * prefilled read-only volume) keeps no record: each start reads the graphs again.
 */
function unrecordedDamage(dir: string, logger: Logger): string | undefined {
  for (const file of manifestGraphFiles(readPartitionManifest(dir))) {
    try {
      readModelOutline(join(dir, file), { checkExternalData: true });
    } catch (cause) {
      if (cause instanceof OnnxIoError) return cause.message;
      throw cause;
    }
  }
  const part = join(dir, `${SIZES_FILE}.tmp-${process.pid}`);
  try {
    writeFileSync(part, sizesJson(dir));
    renameSync(part, join(dir, SIZES_FILE));
    logger.log("info", "bundle.sizes-recorded", { dir });
  } catch (cause) {
    rmSync(part, { force: true });
    logger.log("info", "bundle.sizes-unrecorded", { dir, error: String(cause) });
  }
  return undefined;
}

/** The manifest and every file it names, relative to `dir`. */
function bundleFiles(dir: string): string[] {
  return [MANIFEST_FILE, ...manifestFiles(readPartitionManifest(dir))];
}

/** The sizes file's text for the copy in `dir`. */
function sizesJson(dir: string): string {
  const sizes = Object.fromEntries(bundleFiles(dir).map((f) => [f, statSync(join(dir, f)).size]));
  return `${JSON.stringify(sizes, null, 2)}\n`;
}

function writeSizes(tmp: string): void {
  writeFileSync(join(tmp, SIZES_FILE), sizesJson(tmp));
}

/**
 * Removes what fillers of `dir` that died left beside it (run under the lock, so no live process
 * writes them): `<key>.tmp-<pid>` (killed while it prepared: an OOM kill in the splitter, a node
 * drained) and `<key>.damaged-<pid>` (killed between the renames). A filler removed only a folder of
 * its own pid, which another process's pid seldom is: they stayed for good, each as large as the
 * bundle. One that cannot be removed is logged and left.
 */
function removeLeftovers(dir: string, own: string, logger: Logger): void {
  const bundles = dirname(dir);
  const key = basename(dir);
  for (const name of readdirSync(bundles)) {
    const path = join(bundles, name);
    if (path === own || !(name.startsWith(`${key}.tmp-`) || name.startsWith(`${key}.damaged-`))) continue;
    try {
      rmSync(path, { recursive: true, force: true });
    } catch (cause) {
      logger.log("warn", "bundle.leftover-kept", { dir: path, error: String(cause) });
    }
  }
}

/**
 * Puts the prepared `tmp` in place of `dir`: a damaged copy there is renamed aside first (a folder
 * is not renamed over one that holds files) and removed after; processes waiting on the lock read
 * `dir` only once this returns. A damaged copy whose files this user cannot remove stays aside, logged.
 */
function replace(tmp: string, dir: string, logger: Logger): void {
  const aside = `${dir}.damaged-${process.pid}`;
  let moved = false;
  try {
    renameSync(dir, aside);
    moved = true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw cause;
  }
  renameSync(tmp, dir);
  if (!moved) return;
  try {
    rmSync(aside, { recursive: true, force: true });
  } catch (cause) {
    logger.log("warn", "bundle.damaged-left", { dir: aside, error: String(cause) });
  }
}
