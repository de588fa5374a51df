import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { freePort, waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import { REPO_ROOT, createJob, podNames, startWorld, type World } from "./harness.js";

let world: World;

before(async () => {
  world = await startWorld();
});
after(async () => {
  await world?.stop();
});

test("main.ts runs from flags and env, serves /healthz and /readyz, logs JSON, and shuts down cleanly on SIGTERM", async () => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      join(REPO_ROOT, "operator", "src", "main.ts"),
      `--metrics-port=${port}`,
      "--http-host=127.0.0.1",
      "--lease-namespace=default",
      // long: a process that misses its renew deadline exits 1 (lost leadership), and a 2 s lease's
      // 1.33 s deadline can lapse on a loaded machine; SIGTERM hands the lease back whatever its length
      "--lease-duration-seconds=30",
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: world.cp.kubeconfigPath,
        POD_NAME: "op-main",
        SFPROMPT_NATS_URL: "nats://127.0.0.1:1",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  try {
    const ready = await waitFor(
      async () => {
        // 200 "standby" comes first, until the process holds the lease and its caches are synced.
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        const text = await r.text();
        return r.status === 200 && text === "ok" ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: "the operator process to lead and be ready" },
    );
    assert.equal(ready, "ok");
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    await createJob(world, jobManifest("proc", { clients: { count: 1 } }));
    await waitFor(async () => (await podNames(world, "proc")).length === 1, {
      timeoutMs: 10_000,
      description: "the process reconciles",
    });
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0, stderr);
  if (process.env.DEBUG_MAIN) console.error(stderr);
  const lines = stderr
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { msg: string; level: string });
  assert.ok(lines.some((l) => l.msg === "became leader"));
  assert.equal(lines.at(-1)!.msg, "operator stopped");
  const lease = await world.cp.kubeConfig
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "sfprompt-operator", namespace: "default" });
  assert.equal(lease.spec!.holderIdentity, "", "the lease was released on SIGTERM");
});

test("main.ts refuses a bad flag with exit code 2 and a message naming it", async () => {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", join(REPO_ROOT, "operator", "src", "main.ts"), "--workers=0"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 2);
  assert.match(stderr, /--workers: must be a number ≥ 1/);
});
