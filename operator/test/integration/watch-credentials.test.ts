// Informers whose credentials stop working for a while (an exec credential plugin that fails, as a
// cloud login can): ListWatch opens a new watch by itself each time one ends, and a watch whose
// credentials could not be applied rejected there, where nobody handles it (in the operator's process,
// an unhandled rejection ends it). It now fails as any watch does: logged, listed again with backoff,
// and the informers recover once the credentials work again (ADR 0009 amendment 11).
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, KIND } from "@sfprompt/api";
import { waitFor } from "@sfprompt/kube-testing";
import { Informers } from "../../src/kube/informers.js";
import { createLogger } from "../../src/log.js";
import { MANAGED_SELECTOR } from "../../src/names.js";
import { startWorld, type World } from "./harness.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The world's admin credentials handed out by an exec plugin (a real script) on every request, or
 * refused while the file `failing` exists.
 */
async function execCredentials(world: World, dir: string): Promise<{ kc: KubeConfig; failing: string }> {
  const admin = world.cp.kubeConfig.getCurrentUser()!;
  const pem = (b64: string | undefined): string => Buffer.from(b64!, "base64").toString("utf8");
  const credential = join(dir, "credential.json");
  const failing = join(dir, "failing");
  await writeFile(
    credential,
    JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      // already expired: the plugin runs again for every request
      status: {
        clientCertificateData: pem(admin.certData),
        clientKeyData: pem(admin.keyData),
        expirationTimestamp: "2000-01-01T00:00:00Z",
      },
    }),
  );
  const plugin = join(dir, "plugin.sh");
  await writeFile(
    plugin,
    `#!/bin/sh\nif [ -e '${failing}' ]; then echo 'the login expired' >&2; exit 1; fi\ncat '${credential}'\n`,
  );
  await chmod(plugin, 0o755);
  const cluster = world.cp.kubeConfig.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [
      {
        name: "exec-user",
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin, args: [] },
      },
    ],
    contexts: [{ name: "exec", cluster: cluster.name, user: "exec-user" }],
    currentContext: "exec",
  });
  return { kc, failing };
}

test("informers whose credentials fail for a while log it, list again, and recover; nothing is thrown", async () => {
  // each watch ends after 1-2 s, so ListWatch's own reconnects meet the failing credentials
  const world = await startWorld({ apiServerArgs: ["--min-request-timeout=1"] });
  const dir = await mkdtemp(join(tmpdir(), "sfprompt-exec-cred-"));
  const rejected: string[] = [];
  const onRejection = (err: unknown): void => {
    rejected.push(err instanceof Error ? err.message : String(err));
  };
  process.on("unhandledRejection", onRejection);
  const lines: string[] = [];
  const keys = new Set<string>();
  let informers: Informers | undefined;
  try {
    const { kc, failing } = await execCredentials(world, dir);
    informers = new Informers(
      kc,
      {
        namespaces: ["default"],
        restartDelayMs: 500,
        log: createLogger({ level: "warn", write: (l) => lines.push(l) }),
      },
      (key) => keys.add(key),
    );
    await informers.start();
    // past the first relists (a CRD just installed answers 429 for a moment): the watches now end and
    // are opened again every few seconds by ListWatch itself
    await sleep(4000);
    const before = lines.length;
    await writeFile(failing, "");
    // long enough for every cache's watch to end and be opened again (1-2 s, then a pause of 0-2 s)
    await sleep(6000);
    const failed = lines
      .slice(before)
      .map((l) => JSON.parse(l) as { msg: string; err?: { message?: string } })
      .filter(
        (l) => l.msg === "watch failed; listing again" && /the login expired/.test(l.err?.message ?? ""),
      );
    assert.notEqual(failed.length, 0, "watches that failed on the credentials, logged");
    await rm(failing);
    // A child of job "back" made once the credentials work again reaches the informers.
    await world.core.createNamespacedConfigMap({
      namespace: "default",
      body: {
        metadata: {
          name: "back-config",
          labels: Object.fromEntries([MANAGED_SELECTOR.split("=") as [string, string]]),
          ownerReferences: [
            { apiVersion: API_VERSION, kind: KIND, name: "back", uid: "0000-back", controller: true },
          ],
        },
      },
    });
    await waitFor(() => keys.has("default/back"), {
      timeoutMs: 60_000,
      description: "the informers to see a ConfigMap made after the credentials came back",
    });
    assert.deepEqual(rejected, [], "unhandled rejections");
  } finally {
    process.off("unhandledRejection", onRejection);
    await informers?.stop();
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
