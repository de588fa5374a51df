// The client process: `main(argv, env)` is what the container's CMD and `sfprompt run` start.
import { runProcess, type Env, type ExitCode, type ProcessIo } from "@sfprompt/process-shell";
import { clientRole } from "./client-role.js";

/** Runs client `--client-index` / SFPROMPT_CLIENT_INDEX to its end; resolves with the exit code. */
export function main(argv: readonly string[], env: Env, io?: ProcessIo): Promise<ExitCode> {
  return runProcess(clientRole, argv, env, io);
}
