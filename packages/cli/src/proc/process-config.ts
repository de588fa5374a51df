// The file a server or client child process of `sfprompt run` reads: the run config plus where NATS,
// the partition bundle and the model are on this machine. `sfprompt run` writes it for each session
// (configs/<method>.json in the run folder); a child that cannot use it names the file and the field.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { RunConfigSchema, firstFieldError, toFieldErrors, type RunConfig } from "@sfprompt/api";
import { unreadableDetail } from "@sfprompt/core";

export interface ProcessConfig {
  readonly runConfig: RunConfig;
  readonly natsUrl: string;
  readonly bundleDir: string;
  readonly modelPath: string;
}

const ProcessConfigSchema = z.strictObject({
  runConfig: RunConfigSchema,
  natsUrl: z.string().min(1),
  bundleDir: z.string().min(1),
  modelPath: z.string().min(1),
});

/** A process config file that cannot be read, is not JSON, or holds a field the process cannot use. */
export class ProcessConfigError extends Error {
  override readonly name = "ProcessConfigError";
  constructor(
    readonly path: string,
    /** The first bad field (dotted, e.g. runConfig.training.rounds); "(file)" for the file itself. */
    readonly field: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${field}: ${detail}`, options);
  }
}

/** Writes DIR/NAME and returns its path. */
export function writeProcessConfig(dir: string, name: string, c: ProcessConfig): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`);
  return path;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    const unreadable = unreadableDetail({ path, kind: "file", where: "on this machine" }, cause);
    const detail = unreadable ?? `cannot be read: ${(cause as Error).message}`;
    throw new ProcessConfigError(path, "(file)", detail, { cause });
  }
}

/** Reads and validates a process config file; throws ProcessConfigError naming the file and field. */
export function readProcessConfig(path: string): ProcessConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(readText(path));
  } catch (cause) {
    if (cause instanceof ProcessConfigError) throw cause;
    throw new ProcessConfigError(path, "(file)", `is not JSON: ${(cause as Error).message}`, { cause });
  }
  // reportInput: without it a value of the wrong type reads as missing ("is required")
  const parsed = ProcessConfigSchema.safeParse(doc, { reportInput: true });
  if (parsed.success) return parsed.data;
  // not the user's SFPromptJob: kubectl explain knows none of these paths (runConfig.training, natsUrl)
  const { path: field, message } = firstFieldError(toFieldErrors(parsed.error, "", { explain: false }));
  throw new ProcessConfigError(path, field, message, {
    cause: parsed.error,
  });
}
