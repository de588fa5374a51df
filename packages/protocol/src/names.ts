// Validation of the names that become NATS subject tokens, stream names and bucket names.
// One rule for all of them keeps a job name valid everywhere it is used.
import { InvalidNameError } from "./errors.js";

/** Letters, digits, '-' and '_': safe as a subject token, a stream name and a KV/Object Store bucket. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
export const MAX_NAME_LENGTH = 64;

/** True when `name` can be used as a job or client name on the data plane. */
export function isTokenSafe(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name);
}

/** Throws InvalidNameError unless `name` is token-safe; `what` names the field in the message. */
export function assertTokenSafe(name: string, what: "job" | "client"): string {
  if (!isTokenSafe(name)) {
    throw new InvalidNameError(
      `${what} name ${JSON.stringify(name)} is not NATS-token-safe: use 1-${MAX_NAME_LENGTH} letters, ` +
        `digits, '-' or '_' (no '.', '*', '>' or spaces)`,
      { field: what },
    );
  }
  return name;
}
