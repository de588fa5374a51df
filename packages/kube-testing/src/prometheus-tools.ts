// Prometheus's binaries for tests, promtool (its PromQL parser) and prometheus itself: from
// $PROMTOOL_BIN / $PROMETHEUS_BIN or PATH, else taken once from Debian's `prometheus` package
// (`apt-get download` + `dpkg-deb -x`, no install, no service) and cached under
// ~/.cache/sfprompt/debian/prometheus/. Debian's promtool has no `promql` command, so an expression
// is parsed as the `expr` of a recording rule by `promtool check rules`.
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { PromtoolUnavailableError } from "./errors.js";
import { isExecutable, sfpromptCacheRoot } from "./local-paths.js";

const run = promisify(execFile);

/** The binaries of Debian's prometheus package that tests use. */
export type PrometheusTool = "promtool" | "prometheus";

const ENV: Record<PrometheusTool, string> = { promtool: "PROMTOOL_BIN", prometheus: "PROMETHEUS_BIN" };

/** Where the binaries extracted from the Debian package are kept. */
export function promtoolCacheDir(): string {
  return join(sfpromptCacheRoot(), "debian", "prometheus");
}

/** $PROMTOOL_BIN / $PROMETHEUS_BIN alone when set; else PATH, /usr/bin (the package installed), the cache. */
function candidatePaths(tool: PrometheusTool): string[] {
  const env = process.env[ENV[tool]];
  if (env !== undefined && env !== "") return [env];
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => p !== "");
  return [...new Set([...path, "/usr/bin"])].map((d) => join(d, tool)).concat(join(promtoolCacheDir(), tool));
}

async function extractFromDebianPackage(tool: PrometheusTool): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "sfprompt-promtool-"));
  try {
    const step = async (what: string, file: string, args: string[]): Promise<string> => {
      try {
        return (await run(file, args, { cwd: work, timeout: 300_000, maxBuffer: 16 << 20 })).stdout;
      } catch (cause) {
        throw new PromtoolUnavailableError(tool, `${what} failed`, { cause });
      }
    };
    try {
      await step("apt-get download prometheus", "apt-get", ["download", "prometheus"]);
    } catch (first) {
      // A fresh machine may have no package lists yet (setup.sh updates them only when it installs
      // something): as root, update them once and try again; otherwise the first error stands.
      if (process.getuid?.() !== 0) throw first;
      await step("apt-get update (no package lists for prometheus)", "apt-get", ["update", "-q"]);
      await step("apt-get download prometheus", "apt-get", ["download", "prometheus"]);
    }
    const deb = (await step("finding the downloaded .deb", "sh", ["-c", "ls prometheus_*.deb"]))
      .trim()
      .split("\n")[0]!;
    await step("dpkg-deb -x", "dpkg-deb", ["-x", deb, "x"]);
    await mkdir(promtoolCacheDir(), { recursive: true });
    for (const tool of ["prometheus", "promtool"] as const) {
      const dest = join(promtoolCacheDir(), tool);
      // copy then rename: a concurrent test never sees a half-written binary
      await copyFile(join(work, "x", "usr", "bin", tool), `${dest}.${process.pid}`);
      await rename(`${dest}.${process.pid}`, dest);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The path of `tool`, extracting the Debian package's binaries first when none is found. */
export async function ensurePrometheusTool(tool: PrometheusTool): Promise<string> {
  const candidates = candidatePaths(tool);
  const found = candidates.find(isExecutable);
  if (found) return found;
  const env = process.env[ENV[tool]];
  if (env) throw new PromtoolUnavailableError(tool, `${ENV[tool]}=${env} is not executable`);
  await extractFromDebianPackage(tool);
  return join(promtoolCacheDir(), tool);
}

/** The path of promtool (see ensurePrometheusTool). */
export function ensurePromtool(): Promise<string> {
  return ensurePrometheusTool("promtool");
}

/** What promtool said about one expression: undefined when it parsed. */
export interface PromqlCheck {
  expr: string;
  error: string | undefined;
}

/**
 * Parses each expression with promtool (as a recording rule's expr), one `check rules` per
 * expression so that each error belongs to its expression.
 */
export async function checkPromql(exprs: readonly string[]): Promise<PromqlCheck[]> {
  const bin = await ensurePromtool();
  const dir = await mkdtemp(join(tmpdir(), "sfprompt-promql-"));
  try {
    const out: PromqlCheck[] = [];
    for (const [i, expr] of exprs.entries()) {
      const file = join(dir, `expr-${i}.yaml`);
      // JSON is YAML: no quoting rules of our own for the expression
      await writeFile(
        file,
        JSON.stringify({ groups: [{ name: "check", rules: [{ record: "check:expr", expr }] }] }),
      );
      try {
        await run(bin, ["check", "rules", file], { timeout: 30_000 });
        out.push({ expr, error: undefined });
      } catch (e) {
        const { code, stdout, stderr } = e as { code?: unknown; stdout?: string; stderr?: string };
        if (typeof code !== "number")
          throw new PromtoolUnavailableError("promtool", `running ${bin} failed`, { cause: e });
        out.push({ expr, error: `${stdout ?? ""}${stderr ?? ""}`.trim() });
      }
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
