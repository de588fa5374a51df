// The CRD upgrade that removed spec.data.partitioning.strategy's default (iid; ADR 0005 amendments 2
// and 3), in a real kube-apiserver: a job created under the older CRD without a strategy was stored
// with the iid its default wrote, and keeps it after the upgrade, through a `kubectl apply` (client-
// or server-side) of the same manifest. Without the operator's webhook (none here; with it see
// operator/test/webhook/apiserver-strategy-upgrade.test.ts) a full replace (PUT) of that manifest no
// longer gets the default, so it changes spec.data, which is immutable: it is refused naming the
// strategy, and the stored job is unchanged. A job created after the upgrade stores no strategy.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { kubectl, startControlPlane, waitFor, waitForCrd, type ControlPlane } from "@sfprompt/kube-testing";
import { CRD_NAME, buildCrd } from "../src/index.js";
import { jobWith, type Json } from "./helpers/builders.js";

let cp: ControlPlane;

function k(args: string[], input?: string): ReturnType<typeof kubectl> {
  return kubectl(args, cp.kubeconfigPath, { allowFailure: true, ...(input === undefined ? {} : { input }) });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await k(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

type Node = { [key: string]: unknown };

function at(node: unknown, path: string[]): Node {
  return path.reduce((n, key) => (n as Node)[key] as Node, node as Node);
}

/** The current CRD, and the same with strategy's default as it was before the upgrade. */
function crds(): { current: Node; older: Node } {
  const current = buildCrd() as Node;
  const older = structuredClone(current);
  const spec = at(older, ["spec", "versions", "0", "schema", "openAPIV3Schema", "properties", "spec"]);
  const strategy = at(spec, ["properties", "data", "properties", "partitioning", "properties", "strategy"]);
  assert.equal(strategy.default, undefined, "the current CRD has no strategy default");
  strategy.default = "iid";
  return { current, older };
}

/** A job of folder data (the case the change is for), its strategy unset, as an old manifest has it. */
function manifest(name: string): Json {
  return jobWith(
    {
      data: {
        source: { imageFolder: { path: "/data/images" } },
        evalSource: { imageFolder: { path: "/data/held-out" } },
      },
    },
    { name, namespace: "default" },
  );
}

/** What a dry-run create stores as strategy now: tells which CRD the API server validates with. */
async function defaultedStrategy(): Promise<unknown> {
  const r = await k(
    ["create", "--dry-run=server", "-o", "json", "-f", "-"],
    JSON.stringify(manifest("probe")),
  );
  if (r.code !== 0) return `refused: ${r.stderr}`;
  return at(JSON.parse(r.stdout), ["spec", "data", "partitioning"]).strategy;
}

/** Installs `crd` (a PUT of its spec) and waits until the API server defaults with it. */
async function install(crd: Node, strategy: unknown): Promise<void> {
  const live = JSON.parse(await ok(["get", "crd", CRD_NAME, "-o", "json"])) as Node;
  await ok(["replace", "-f", "-"], JSON.stringify({ ...live, spec: crd.spec }));
  let last: unknown;
  await waitFor(async () => (last = await defaultedStrategy()) === strategy, {
    timeoutMs: 30_000,
    intervalMs: 250,
    get description() {
      return `the API server to default strategy to ${String(strategy)} (last: ${String(last)})`;
    },
  });
}

async function storedStrategy(name: string): Promise<unknown> {
  const job = JSON.parse(await ok(["get", "sfpromptjob", name, "-n", "default", "-o", "json"])) as Node;
  return at(job, ["spec", "data", "partitioning"]).strategy;
}

before(async () => {
  cp = await startControlPlane();
  const { current, older } = crds();
  await kubectl(["apply", "--server-side", "-f", "-"], cp.kubeconfigPath, { input: JSON.stringify(older) });
  await waitForCrd(cp.kubeConfig, CRD_NAME, { timeoutMs: 60_000 });
  await install(older, "iid");
  await ok(["create", "-f", "-"], JSON.stringify(manifest("created-before")));
  await ok(["apply", "-f", "-"], JSON.stringify(manifest("applied-before")));
  await ok(["apply", "--server-side", "-f", "-"], JSON.stringify(manifest("server-applied-before")));
  await install(current, undefined);
});

after(async () => {
  await cp?.stop();
});

describe("spec.data.partitioning.strategy across the CRD upgrade that removed its default", () => {
  it("a job stored before keeps the iid the older default wrote", async () => {
    for (const name of ["created-before", "applied-before", "server-applied-before"])
      assert.equal(await storedStrategy(name), "iid", name);
  });

  it("applying the same manifest again (client-side or server-side) is accepted and keeps iid", async () => {
    await ok(["apply", "-f", "-"], JSON.stringify(manifest("applied-before")));
    assert.equal(await storedStrategy("applied-before"), "iid");
    await ok(["apply", "--server-side", "-f", "-"], JSON.stringify(manifest("server-applied-before")));
    assert.equal(await storedStrategy("server-applied-before"), "iid");
  });

  it("replacing it with the manifest (no strategy) is refused naming spec.data.partitioning.strategy; with strategy iid it is accepted", async () => {
    const live = JSON.parse(
      await ok(["get", "sfpromptjob", "created-before", "-n", "default", "-o", "json"]),
    );
    const replaced = manifest("created-before");
    (replaced.metadata as Json).resourceVersion = at(live, ["metadata"]).resourceVersion;
    const r = await k(["replace", "-f", "-"], JSON.stringify(replaced));
    assert.notEqual(r.code, 0, "the replace was accepted");
    // the refusal names the strategy and what to do, not only spec.data as a whole
    assert.match(
      r.stderr,
      /spec\.data\.partitioning\.strategy: Forbidden: field is immutable \(setting, changing and removing it are refused\): a job created before 2026-11-29 without a strategy holds iid, .*keep strategy: iid in the manifest/,
    );
    assert.equal(await storedStrategy("created-before"), "iid");
    const withIid = structuredClone(replaced);
    at(withIid, ["spec", "data"]).partitioning = { strategy: "iid" };
    await ok(["replace", "-f", "-"], JSON.stringify(withIid));
    assert.equal(await storedStrategy("created-before"), "iid");
  });

  it("a job created after the upgrade stores no strategy", async () => {
    await ok(["create", "-f", "-"], JSON.stringify(manifest("created-after")));
    assert.equal(await storedStrategy("created-after"), undefined);
  });
});
