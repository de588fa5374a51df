// A job stored under the CRD of before 2026-11-29, whose default wrote spec.data.partitioning.strategy
// iid into it, replaced after the upgrade with its manifest (no strategy): with the operator's
// defaulting webhook the API server keeps the stored iid and accepts the replace, as it did before
// the upgrade (ADR 0005, amendment 3). Without it the request lacked the strategy, a change of the
// immutable spec.data, and was refused. Real kube-apiserver, the webhook served as the operator
// serves it, kubectl.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildCrd, crdYaml } from "@sfprompt/api";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import yaml from "js-yaml";
import { jobWith, type Json } from "../../../packages/api/test/helpers/builders.js";
import { startWebhookControlPlane, type WebhookControlPlane } from "./webhook-control-plane.js";

const NAMESPACE = "team-u";
let plane: WebhookControlPlane;

type Node = { [key: string]: unknown };

function at(node: unknown, path: string[]): Node {
  return path.reduce((n, key) => (n as Node)[key] as Node, node as Node);
}

/** The current CRD with strategy's default as it was before the upgrade. */
function olderCrd(): string {
  const crd = buildCrd() as Node;
  const spec = at(crd, ["spec", "versions", "0", "schema", "openAPIV3Schema", "properties", "spec"]);
  at(spec, ["properties", "data", "properties", "partitioning", "properties", "strategy"]).default = "iid";
  return yaml.dump(crd);
}

/** A job of folder data without a strategy, as a manifest written before the upgrade has it. */
function manifest(name: string, partitioning?: Json): Json {
  return jobWith(
    {
      data: {
        source: { imageFolder: { path: "/data/images" } },
        evalSource: { imageFolder: { path: "/data/held-out" } },
        ...(partitioning === undefined ? {} : { partitioning }),
      },
    },
    { name, namespace: NAMESPACE },
  );
}

async function k(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(args, plane.cp.kubeconfigPath, {
    allowFailure: true,
    ...(input === undefined ? {} : { input }),
  });
}

/** The strategy a dry-run create stores: which CRD the API server defaults with. */
async function defaultedStrategy(): Promise<unknown> {
  const r = await k(
    ["create", "--dry-run=server", "-o", "json", "-f", "-"],
    JSON.stringify(manifest("probe")),
  );
  return r.code === 0 ? at(JSON.parse(r.stdout), ["spec", "data", "partitioning"]).strategy : r.stderr;
}

async function install(text: string, strategy: unknown): Promise<void> {
  await plane.installCrd(text);
  let last: unknown;
  await waitFor(async () => (last = await defaultedStrategy()) === strategy, {
    timeoutMs: 30_000,
    intervalMs: 250,
    get description() {
      return `the API server to default strategy to ${String(strategy)} (last: ${String(last)})`;
    },
  });
}

async function stored(name: string): Promise<Node> {
  const r = await k(["get", "sfpromptjob", name, "-n", NAMESPACE, "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Node;
}

/** `kubectl replace` of `job` over the stored one (its resourceVersion). */
async function replace(job: Json): Promise<{ code: number; stderr: string }> {
  const name = (job.metadata as { name: string }).name;
  const live = await stored(name);
  const body = structuredClone(job);
  (body.metadata as Json).resourceVersion = at(live, ["metadata"]).resourceVersion;
  return k(["replace", "-f", "-"], JSON.stringify(body));
}

before(async () => {
  plane = await startWebhookControlPlane([NAMESPACE]);
  await install(olderCrd(), "iid");
  for (const name of ["kept", "set"]) {
    const r = await k(["create", "-f", "-"], JSON.stringify(manifest(name)));
    assert.equal(r.code, 0, r.stderr);
  }
  await install(crdYaml(), undefined);
});
after(async () => {
  await plane?.stop();
});

describe("a job stored with the older CRD's strategy default, replaced after the upgrade", () => {
  it("is stored with iid by the older CRD", async () => {
    for (const name of ["kept", "set"])
      assert.equal(at(await stored(name), ["spec", "data", "partitioning"]).strategy, "iid", name);
  });

  it("replacing it with its manifest (no strategy) is accepted and keeps iid", async () => {
    const r = await replace(manifest("kept"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(at(await stored("kept"), ["spec", "data", "partitioning"]).strategy, "iid");
  });

  it("a strategy the replace sets is its own: another one is refused as a change of it", async () => {
    const r = await replace(manifest("set", { strategy: "none" }));
    assert.notEqual(r.code, 0, "the replace was accepted");
    assert.match(r.stderr, /spec\.data\.partitioning\.strategy: /);
    assert.equal(at(await stored("set"), ["spec", "data", "partitioning"]).strategy, "iid");
  });

  it("a job created after the upgrade gets no strategy from the webhook", async () => {
    const r = await k(["create", "-f", "-"], JSON.stringify(manifest("new")));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(at(await stored("new"), ["spec", "data", "partitioning"]).strategy, undefined);
    const again = await replace(manifest("new"));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(at(await stored("new"), ["spec", "data", "partitioning"]).strategy, undefined);
  });
});
