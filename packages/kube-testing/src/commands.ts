// kubectl and helm from the binary cache, run against a test control plane.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveKubeBinary } from "./binaries.js";
import { KubeCommandError } from "./errors.js";
import { registerTempDir, sweepStaleTempDirs } from "./processes.js";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Written to the command's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Resolve with a non-zero code instead of throwing KubeCommandError. */
  allowFailure?: boolean;
  /** Kill the command after this long (default 60 s). */
  timeoutMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface HelmOptions extends CommandOptions {
  /** Passed as --kubeconfig, for commands that talk to a cluster. */
  kubeconfigPath?: string;
}

function runCommand(name: string, bin: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: "SIGKILL",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    // A command that exits without reading all of its input (one that refuses its arguments, say)
    // closes the pipe under the write: EPIPE, thrown from the stream with no listener, as an uncaught
    // exception after the command was already answered. Its exit code and stderr say what happened.
    child.stdin.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") reject(err);
    });
    child.once("close", (code) => {
      if (code === 0 || (opts.allowFailure && code !== null)) resolve({ code: code ?? -1, stdout, stderr });
      else reject(new KubeCommandError(name, args, code, stdout, stderr));
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** Runs the cached kubectl with `--kubeconfig <kubeconfigPath>`; throws KubeCommandError on failure. */
export function kubectl(
  args: string[],
  kubeconfigPath: string,
  opts: CommandOptions = {},
): Promise<CommandResult> {
  const env = { KUBECACHEDIR: home("kubectl-cache"), ...opts.env };
  return runCommand("kubectl", resolveKubeBinary("kubectl"), ["--kubeconfig", kubeconfigPath, ...args], {
    ...opts,
    env,
  });
}

let toolHome: string | undefined;

// kubectl caches discovery per server address and helm keeps repositories, plugins and caches in
// its home folders; tests get a private, empty set instead of growing ~/.kube and ~/.cache/helm.
function home(sub: string): string {
  if (!toolHome) {
    sweepStaleTempDirs(tmpdir(), "sfprompt-kubetools-");
    toolHome = mkdtempSync(join(tmpdir(), "sfprompt-kubetools-"));
    registerTempDir(toolHome);
  }
  return join(toolHome, sub);
}

function helmEnv(): Record<string, string> {
  return {
    HELM_CACHE_HOME: home("helm-cache"),
    HELM_CONFIG_HOME: home("helm-config"),
    HELM_DATA_HOME: home("helm-data"),
  };
}

/** Runs the cached helm with private home folders; throws KubeCommandError on failure. */
export function helm(args: string[], opts: HelmOptions = {}): Promise<CommandResult> {
  const full = opts.kubeconfigPath ? [...args, "--kubeconfig", opts.kubeconfigPath] : args;
  return runCommand("helm", resolveKubeBinary("helm"), full, { ...opts, env: { ...helmEnv(), ...opts.env } });
}
