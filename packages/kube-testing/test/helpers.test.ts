// The harness's pure parts: binary lookup, waiting, manifest parsing; no control plane needed.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  KUBE_VERSION,
  KubeBinaryMissingError,
  ManifestError,
  WaitTimeoutError,
  kubeCacheBinDir,
  parseManifests,
  resolveKubeBinary,
  waitFor,
} from "../src/index.js";

const script = readFileSync(new URL("../../../scripts/kube-bins.sh", import.meta.url), "utf8");

function withEnv<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("binary lookup", () => {
  const empty = mkdtempSync(join(tmpdir(), "kube-testing-empty-"));
  const assets = mkdtempSync(join(tmpdir(), "kube-testing-assets-"));
  writeFileSync(join(assets, "etcd"), "#!/bin/sh\n");
  chmodSync(join(assets, "etcd"), 0o755);
  after(() => {
    rmSync(empty, { recursive: true, force: true });
    rmSync(assets, { recursive: true, force: true });
  });

  it("the harness expects the Kubernetes version scripts/kube-bins.sh builds", () => {
    const m = /^KUBE_VERSION=(\S+)/m.exec(script);
    assert.equal(m?.[1], KUBE_VERSION);
  });

  it("the cache folder is <SFPROMPT_CACHE>/kube/<version>/bin, as the script writes it", () => {
    const dir = withEnv({ SFPROMPT_CACHE: empty }, () => kubeCacheBinDir());
    assert.equal(dir, join(empty, "kube", KUBE_VERSION, "bin"));
    assert.match(script, /BIN="\$KUBE_DIR\/bin"/);
    assert.match(script, /KUBE_DIR="\$CACHE_ROOT\/kube\/\$KUBE_VERSION"/);
  });

  it("a missing binary is an error that names the script to run and every place searched", () => {
    const env = { SFPROMPT_CACHE: empty, KUBEBUILDER_ASSETS: assets, TEST_ASSET_KUBE_APISERVER: undefined };
    withEnv(env, () =>
      assert.throws(
        () => resolveKubeBinary("kube-apiserver"),
        (e: unknown) =>
          e instanceof KubeBinaryMissingError &&
          /bash scripts\/kube-bins\.sh/.test(e.message) &&
          e.searched.join("|") ===
            [join(assets, "kube-apiserver"), join(empty, "kube", KUBE_VERSION, "bin", "kube-apiserver")].join(
              "|",
            ),
      ),
    );
  });

  it("KUBEBUILDER_ASSETS wins over the cache when it holds the binary", () => {
    const p = withEnv({ SFPROMPT_CACHE: empty, KUBEBUILDER_ASSETS: assets, TEST_ASSET_ETCD: undefined }, () =>
      resolveKubeBinary("etcd"),
    );
    assert.equal(p, join(assets, "etcd"));
  });
});

describe("waitFor", () => {
  it("returns the first value that is not undefined, null or false", async () => {
    let calls = 0;
    const v = await waitFor(() => (++calls < 3 ? false : { calls }), { intervalMs: 1 });
    assert.deepEqual(v, { calls: 3 });
  });

  it("treats a throw as not yet and keeps polling", async () => {
    let calls = 0;
    const v = await waitFor(
      () => {
        if (++calls < 4) throw new Error("not yet");
        return calls;
      },
      { intervalMs: 1 },
    );
    assert.equal(v, 4);
  });

  it("times out with the description and the last error as cause", async () => {
    const last = new Error("still missing");
    await assert.rejects(
      waitFor(
        () => {
          throw last;
        },
        { timeoutMs: 50, intervalMs: 5, description: "the widget" },
      ),
      (e: unknown) => e instanceof WaitTimeoutError && /the widget/.test(e.message) && e.cause === last,
    );
  });
});

describe("manifest parsing", () => {
  const cases = [
    {
      name: "two documents with an empty one between give two objects in order",
      text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
      kinds: ["Namespace", "ConfigMap"],
    },
    { name: "an empty text gives no objects", text: "", kinds: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(
        parseManifests(c.text).map((o) => o.kind),
        c.kinds,
      );
    });
  }

  it("a document without a name is refused with its position", () => {
    assert.throws(
      () => parseManifests("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: ConfigMap\n"),
      (e: unknown) => e instanceof ManifestError && /document 2/.test(e.message),
    );
  });
});
