// The server process: `main(argv, env)` is what the container's CMD and `sfprompt run` start.
import { runProcess, type Env, type ExitCode, type ProcessIo } from "@sfprompt/process-shell";
import { serverRole } from "./server-role.js";

/** Runs the server process to its end; resolves with the exit code (docs/images.md). */
export function main(argv: readonly string[], env: Env, io?: ProcessIo): Promise<ExitCode> {
  return runProcess(serverRole, argv, env, io);
}
