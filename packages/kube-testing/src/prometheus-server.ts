// A throw-away Prometheus (Debian's binary, see prometheus-tools.ts) on a free loopback port, for
// tests that evaluate PromQL against series it really scraped: start it with scrape configs, wait
// for scrapes, query, stop.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlPlaneStartError } from "./errors.js";
import { freePort } from "./ports.js";
import { ensurePrometheusTool } from "./prometheus-tools.js";
import { registerTempDir, removeTempDir, startProcess, startError } from "./processes.js";
import { waitFor } from "./wait.js";

export interface PrometheusOptions {
  /** scrape_configs entries, as Prometheus's configuration file spells them. */
  scrapeConfigs: readonly object[];
  /** Global scrape interval (default 1s). */
  scrapeInterval?: string;
  startTimeoutMs?: number;
}

/** One element of an instant query's vector result. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface TestPrometheus {
  url: string;
  /** An instant query; a failed query (bad expression, no vector) throws with Prometheus's error. */
  query(expr: string): Promise<PromSample[]>;
  stop(): Promise<void>;
}

/** Prometheus answered a query with an error. */
export class PromQueryError extends Error {
  override readonly name = "PromQueryError";
  constructor(
    readonly expr: string,
    readonly errorType: string,
    reason: string,
  ) {
    super(`Prometheus refused ${expr}: ${errorType}: ${reason}`);
  }
}

export async function startPrometheus(opts: PrometheusOptions): Promise<TestPrometheus> {
  const bin = await ensurePrometheusTool("prometheus");
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-prometheus-"));
  registerTempDir(dir);
  const port = await freePort();
  const config = {
    global: { scrape_interval: opts.scrapeInterval ?? "1s" },
    scrape_configs: opts.scrapeConfigs,
  };
  // JSON is YAML
  writeFileSync(join(dir, "prometheus.yml"), JSON.stringify(config));
  const proc = startProcess(
    "prometheus",
    bin,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    join(dir, "prometheus.log"),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await proc.kill();
    removeTempDir(dir);
  };
  try {
    await waitFor(
      async () => {
        if (!proc.running()) throw startError(proc, "exited");
        return (await fetch(`${url}/-/ready`)).ok;
      },
      { timeoutMs: opts.startTimeoutMs ?? 30_000, description: "Prometheus to be ready" },
    );
  } catch (err) {
    await stop();
    if (err instanceof ControlPlaneStartError) throw err;
    throw startError(proc, "did not become ready", err);
  }
  const query = async (expr: string): Promise<PromSample[]> => {
    const res = await fetch(`${url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query: expr }).toString(),
    });
    const body = (await res.json()) as {
      status: string;
      errorType?: string;
      error?: string;
      data?: { resultType: string; result: PromSample[] };
    };
    if (body.status !== "success") throw new PromQueryError(expr, body.errorType ?? "", body.error ?? "");
    if (body.data?.resultType !== "vector")
      throw new PromQueryError(expr, "result", `a ${body.data?.resultType}, not a vector`);
    return body.data.result;
  };
  return { url, query, stop };
}
