// A test process that dies, even by SIGKILL, leaves no etcd or kube-apiserver behind, and its
// folder is swept by the next start.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { waitFor } from "../src/index.js";

const fixture = new URL("./fixtures/hold-control-plane.ts", import.meta.url).pathname;

/** Pids of processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(text)) pids.push(Number(name));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

/**
 * A process holding a control plane whose folder lies under `parent` (its TMPDIR): a folder of its
 * own, so that no other test file's control plane, starting meanwhile, sweeps a killed holder's
 * folder before this test looks at it.
 */
async function startHolder(
  args: string[],
  parent: string,
): Promise<{ pid: number; dir: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", fixture, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, TMPDIR: parent },
  });
  const exited = once(child, "exit");
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  const line = await waitFor(() => out.includes("\n") && out, {
    timeoutMs: 60_000,
    description: "the holder process to start its control plane",
  });
  const { dir } = JSON.parse(line) as { dir: string };
  return { pid: child.pid!, dir, exited };
}

const signals = [
  {
    name: "SIGTERM kills the components and removes the folder at once",
    signal: "SIGTERM" as const,
    args: [],
  },
  {
    name: "SIGKILL still kills the components (parent-death signal), and the next start sweeps the folder",
    signal: "SIGKILL" as const,
    args: ["--controller-manager"],
  },
];

describe("cleanup when the test process dies", () => {
  for (const c of signals) {
    it(c.name, async (t) => {
      const parent = mkdtempSync(join(tmpdir(), "cleanup-test-"));
      t.after(() => rmSync(parent, { recursive: true, force: true }));
      const holder = await startHolder(c.args, parent);
      assert.ok(processesMentioning(holder.dir).length >= 2, "etcd and kube-apiserver run in the folder");
      process.kill(holder.pid, c.signal);
      await holder.exited;
      await waitFor(() => processesMentioning(holder.dir).length === 0, {
        timeoutMs: 10_000,
        description: `the components of ${holder.dir} to exit`,
      });
      if (c.signal === "SIGKILL") {
        assert.equal(existsSync(holder.dir), true, "nothing could remove the folder at SIGKILL");
        // the next start in the same TMPDIR sweeps it; stopped by SIGTERM, it removes its own
        const next = await startHolder([], parent);
        process.kill(next.pid, "SIGTERM");
        await next.exited;
        assert.equal(existsSync(next.dir), false, "the next start removed its own folder on SIGTERM");
      }
      assert.equal(existsSync(holder.dir), false);
    });
  }
});
