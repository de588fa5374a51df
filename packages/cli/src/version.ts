// The version `sfprompt --version` prints: this package's, read from its package.json, which sits one
// folder above both src/ (run from source) and dist/ (the installed bin).
import { readFileSync } from "node:fs";

/** e.g. "0.1.0". */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}
