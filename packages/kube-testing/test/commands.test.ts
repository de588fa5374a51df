// kubectl as the tests run it (the cached binary, a real process): a command that does not read the
// input it was given ends with its own exit code and output, and nothing is thrown from its stdin.
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../src/index.js";

// Far more than a pipe holds (64 KiB), so that most of it is still being written when kubectl exits.
const UNREAD = "#\n".repeat(2 << 20);

/** Runs `fn`, then lets a turn of the event loop pass; returns the errors nobody caught meanwhile. */
async function uncaughtDuring(fn: () => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  const onError = (err: unknown): void => {
    errors.push(
      err instanceof Error ? `${err.message} (${(err as NodeJS.ErrnoException).code})` : String(err),
    );
  };
  process.on("uncaughtExceptionMonitor", onError);
  process.on("unhandledRejection", onError);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    process.off("uncaughtExceptionMonitor", onError);
    process.off("unhandledRejection", onError);
  }
  return errors;
}

test("a kubectl command that exits without reading its input resolves with its exit code; its closed stdin throws nothing", async () => {
  const errors = await uncaughtDuring(async () => {
    // no cluster needed: --client prints the client's version and never reads stdin
    const r = await kubectl(["version", "--client"], "/nonexistent-kubeconfig", { input: UNREAD });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Client Version: v/m);
    const refused = await kubectl(["version", "--no-such-flag"], "/nonexistent-kubeconfig", {
      input: UNREAD,
      allowFailure: true,
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unknown flag: --no-such-flag/);
  });
  assert.deepEqual(errors, []);
});
