// Files of a Go module, fetched once from the Go module proxy (the module's zip, checked against a
// pinned sha256) and cached under ~/.cache/sfprompt/go-modules/<module>@<version>/: how tests get
// upstream manifests (e.g. the Prometheus Operator CRDs) where the Go module proxy is the only source
// of them that CI reaches (the same route scripts/kube-bins.sh takes for its Go toolchain).
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
// the project's one zip reader; the subpath loads only that module, not the runtime
import { listZipEntries, readZipEntry, type ZipEntry } from "@sfprompt/core/zip";
import { describeRequestError, httpGet } from "@sfprompt/core/https-get";
import { GoModuleFetchError } from "./errors.js";
import { sfpromptCacheRoot } from "./local-paths.js";

export interface GoModuleFilesOptions {
  /** Module path, e.g. github.com/prometheus-operator/prometheus-operator. */
  module: string;
  /** A version the proxy serves, e.g. v0.85.0. */
  version: string;
  /** Paths inside the module (relative to its root). */
  files: readonly string[];
  /** sha256 (hex) of the module zip: a different download is refused, not cached. */
  zipSha256: string;
  /** Default 120 s for the download. */
  timeoutMs?: number;
}

/** The first proxy in GOPROXY that is a URL (default https://proxy.golang.org, as `go` uses). */
export function goProxyUrl(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.GOPROXY ?? "")
    .split(/[,|]/)
    .map((s) => s.trim())
    .find((s) => s !== "" && s !== "direct" && s !== "off");
  return (first ?? "https://proxy.golang.org").replace(/\/+$/, "");
}

/** A module path as the proxy protocol spells it: each capital letter as '!' and its lower case. */
export function escapeModulePath(module: string): string {
  return module.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** The folder the files of module@version are cached in. */
export function goModuleCacheDir(module: string, version: string): string {
  return join(sfpromptCacheRoot(), "go-modules", `${module}@${version}`);
}

async function readCached(dir: string, files: readonly string[]): Promise<Map<string, string> | undefined> {
  const out = new Map<string, string>();
  for (const f of files) {
    try {
      out.set(f, await readFile(join(dir, f), "utf8"));
    } catch {
      return undefined;
    }
  }
  return out;
}

async function download(url: string, o: GoModuleFilesOptions): Promise<Buffer> {
  const fail = (why: string, cause?: unknown): GoModuleFetchError =>
    new GoModuleFetchError(o.module, o.version, url, why, cause === undefined ? undefined : { cause });
  // node:https trusting the machine's CA store too (a TLS-intercepting proxy's CA installed there, as
  // curl and go trust it), through HTTPS_PROXY where set; Node's fetch trusts only its own roots
  let zip: Buffer;
  try {
    const res = await httpGet(new URL(url), { signal: AbortSignal.timeout(o.timeoutMs ?? 120_000) });
    if (res.status < 200 || res.status > 299) {
      res.body.resume();
      throw fail(`the proxy answered HTTP ${res.status}`);
    }
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    zip = Buffer.concat(chunks);
  } catch (cause) {
    if (cause instanceof GoModuleFetchError) throw cause;
    throw fail(`the request failed: ${describeRequestError(cause)}`, cause);
  }
  const sha = createHash("sha256").update(zip).digest("hex");
  if (sha !== o.zipSha256) throw fail(`the zip's sha256 is ${sha}, expected ${o.zipSha256}`);
  return zip;
}

/**
 * The named files (paths in the module) out of its zip, every one read and checked before any is
 * cached. Throws GoModuleFetchError for a file the module lacks, or with the ZipFormatError as its
 * cause for a zip that cannot be read.
 */
function readModuleFiles(zip: Buffer, url: string, o: GoModuleFilesOptions): Map<string, Buffer> {
  const unreadable = (cause: unknown): GoModuleFetchError =>
    new GoModuleFetchError(o.module, o.version, url, "the zip could not be read", { cause });
  const prefix = `${o.module}@${o.version}/`;
  let byName: Map<string, ZipEntry>;
  try {
    byName = new Map(listZipEntries(zip, url).map((e) => [e.name, e]));
  } catch (cause) {
    throw unreadable(cause);
  }
  const missing = o.files.filter((f) => !byName.has(prefix + f));
  if (missing.length > 0)
    throw new GoModuleFetchError(o.module, o.version, url, `the module has no file ${missing.join(", ")}`);
  const out = new Map<string, Buffer>();
  for (const f of o.files) {
    try {
      out.set(f, readZipEntry(zip, url, byName.get(prefix + f)!));
    } catch (cause) {
      throw unreadable(cause);
    }
  }
  return out;
}

/**
 * The named files of module@version as text, keyed by their path in the module: from the cache, or
 * downloaded (the whole module zip, held in memory) and cached. Throws GoModuleFetchError when the
 * download fails, its checksum differs or a file is not in the module.
 */
export async function goModuleFiles(o: GoModuleFilesOptions): Promise<Map<string, string>> {
  const dir = goModuleCacheDir(o.module, o.version);
  const cached = await readCached(dir, o.files);
  if (cached) return cached;
  const url = `${goProxyUrl()}/${escapeModulePath(o.module)}/@v/${o.version}.zip`;
  const zip = await download(url, o);
  const entries = readModuleFiles(zip, url, o);
  const out = new Map<string, string>();
  for (const f of o.files) {
    const data = entries.get(f)!;
    const path = join(dir, f);
    await mkdir(dirname(path), { recursive: true });
    // write then rename, so that a test killed mid-write never leaves a half file in the cache
    await writeFile(`${path}.tmp-${process.pid}`, data);
    await rename(`${path}.tmp-${process.pid}`, path);
    out.set(f, data.toString("utf8"));
  }
  return out;
}
