// The file a server or client child process of `sfprompt run` reads: the run config plus where NATS,
// the partition bundle and the model are on this machine.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RunConfigSchema, type RunConfig } from "@sfprompt/api";

export interface ProcessConfig {
  readonly runConfig: RunConfig;
  readonly natsUrl: string;
  readonly bundleDir: string;
  readonly modelPath: string;
}

/** Writes DIR/NAME and returns its path. */
export function writeProcessConfig(dir: string, name: string, c: ProcessConfig): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`);
  return path;
}

/** Reads and validates a process config file. */
export function readProcessConfig(path: string): ProcessConfig {
  const raw = JSON.parse(readFileSync(path, "utf8")) as ProcessConfig;
  return { ...raw, runConfig: RunConfigSchema.parse(raw.runConfig) };
}
