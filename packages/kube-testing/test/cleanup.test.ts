// A test process that dies, even by SIGKILL, leaves no etcd or kube-apiserver behind, and its
// folder is swept by the next start.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { describe, it } from "node:test";
import { startControlPlane, waitFor } from "../src/index.js";

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

async function startHolder(args: string[]): Promise<{ pid: number; dir: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", fixture, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
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
    it(c.name, async () => {
      const holder = await startHolder(c.args);
      assert.ok(processesMentioning(holder.dir).length >= 2, "etcd and kube-apiserver run in the folder");
      process.kill(holder.pid, c.signal);
      await holder.exited;
      await waitFor(() => processesMentioning(holder.dir).length === 0, {
        timeoutMs: 10_000,
        description: `the components of ${holder.dir} to exit`,
      });
      if (c.signal === "SIGKILL") {
        assert.equal(existsSync(holder.dir), true, "nothing could remove the folder at SIGKILL");
        const next = await startControlPlane();
        await next.stop();
      }
      assert.equal(existsSync(holder.dir), false);
    });
  }
});
