// The CLI run as a user who cannot read or write root's files: as root, nobody (65534), since root
// reads and writes anywhere; as another user, that user itself, the tests then closing the files with
// modes instead (000, 0555).
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { loadableAs } from "../../sfprompt/test/checkout-for-user.js";
import { type CliResult } from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const OTHER_USER = { uid: 65534, gid: 65534 };
/** Whether the tests run as root, and so the CLI as nobody. */
export const asRoot = process.getuid?.() === 0;
/** The uid the CLI runs as. */
export const otherUid = asRoot ? OTHER_USER.uid : (process.getuid?.() ?? -1);

/** `sfprompt ARGS` run as the other user, with `env` added to this process's environment. */
export function sfpromptAsOtherUser(env: Record<string, string>, ...args: string[]): CliResult {
  // from a copy of the checkout where nobody cannot read it (a clone under /root)
  const at = loadableAs(asRoot ? OTHER_USER : undefined, MAIN);
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", at.file, ...args], {
    cwd: at.root,
    encoding: "utf8",
    timeout: 60_000,
    killSignal: "SIGKILL",
    ...(asRoot ? OTHER_USER : {}),
    // tsx keeps its cache in the temp folder per user
    env: { ...process.env, HOME: tmpdir(), ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
