// main.ts with --webhook=true as a process: the webhook flags are split from the operator's, the
// certificate lands in its Secret, the HTTPS server answers with it, and SIGTERM stops both cleanly.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { freePort, startControlPlane, waitFor, type ControlPlane } from "@sfprompt/kube-testing";
import { bundleFromSecret } from "../../src/webhook/certs/cert-secret.js";

const MAIN = join(import.meta.dirname, "..", "..", "src", "main.ts");
let cp: ControlPlane;

before(async () => {
  cp = await startControlPlane();
});
after(() => cp?.stop());

function getReadyz(port: number, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path: "/readyz", ca, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

it("main.ts serves the webhook with a certificate it generated into the Secret, and stops on SIGTERM", async () => {
  const [httpPort, webhookPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      MAIN,
      `--metrics-port=${httpPort}`,
      "--http-host=127.0.0.1",
      "--leader-elect=false",
      "--webhook=true",
      "--webhook-host=127.0.0.1",
      `--webhook-port=${webhookPort}`,
      "--webhook-namespace=default",
      "--webhook-extra-hosts=127.0.0.1",
    ],
    {
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, SFPROMPT_NATS_URL: "nats://127.0.0.1:1" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  try {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const secret = await waitFor(
      () => core.readNamespacedSecret({ namespace: "default", name: "sfprompt-operator-webhook-cert" }),
      { timeoutMs: 30_000, description: "the webhook certificate Secret" },
    );
    const { caPem } = bundleFromSecret(secret);
    const ready = await waitFor(() => getReadyz(webhookPort, caPem), {
      timeoutMs: 15_000,
      description: "the webhook's /readyz over TLS",
    });
    assert.deepEqual(ready, { status: 200, body: "ok" });
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    assert.equal(health.status, 200);
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, stderr);
    assert.match(stderr, /"msg":"webhook listening"/);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
