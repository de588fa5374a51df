import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { kubectl } from "@sfprompt/kube-testing";
import { jobManifest, type SpecInput } from "../fixtures.js";
import { REPO_ROOT, startWorld, type World } from "./harness.js";

let world: World;

before(async () => {
  world = await startWorld();
});
after(async () => {
  await world?.stop();
});

const apply = (manifest: string, dryRun = true) =>
  kubectl(
    ["apply", "--server-side", "--field-manager=test", ...(dryRun ? ["--dry-run=server"] : []), "-f", "-"],
    world.cp.kubeconfigPath,
    {
      input: manifest,
      allowFailure: true,
    },
  );

test("the generated CRD installs and kubectl explain describes the spec for users", async () => {
  const r = await kubectl(["explain", "sfpromptjob.spec"], world.cp.kubeconfigPath);
  assert.match(r.stdout, /KIND:\s+SFPromptJob/);
  assert.match(r.stdout, /suspend\s+<boolean>/);
  assert.match(r.stdout, /Stop the job's pods while true/);
  const clients = await kubectl(["explain", "sfpj.spec.clients.spreadOnePerNode"], world.cp.kubeconfigPath);
  assert.match(clients.stdout, /at most one client pod per node/);
});

const examples = readdirSync(join(REPO_ROOT, "examples")).filter((f) => f.endsWith(".yaml"));

test("there are examples: a minimal one, a GPU + pinned edge one, a suspended one and one on the user's own data", () => {
  for (const f of ["minimal.yaml", "gpu-edge.yaml", "suspended.yaml", "edge-text-jsonl.yaml"])
    assert.ok(examples.includes(f), f);
});

for (const file of examples) {
  test(`example ${file} is accepted by the API server as written`, async () => {
    const text = readFileSync(join(REPO_ROOT, "examples", file), "utf8");
    const r = await apply(text, false);
    assert.equal(r.code, 0, r.stderr);
    const name = (yaml.load(text) as { metadata: { name: string } }).metadata.name;
    const stored = await kubectl(["get", "sfpj", name, "-o", "json"], world.cp.kubeconfigPath);
    const spec = JSON.parse(stored.stdout).spec;
    assert.equal(spec.clients.count >= 1, true, "defaults were applied by the API server");
  });
}

const invalid: { name: string; spec: SpecInput | Record<string, unknown>; message: RegExp }[] = [
  {
    name: "zero clients",
    spec: { clients: { count: 0 } },
    message:
      /spec\.clients\.count: Invalid value: 0: spec\.clients\.count in body should be greater than or equal to 1/,
  },
  {
    name: "more clients per round than clients",
    spec: { clients: { count: 2, perRound: { count: 3 } } },
    message:
      /spec\.clients\.perRound\.count: Invalid value: .*clients\.perRound\.count must not exceed clients\.count/,
  },
  {
    name: "a misspelt field",
    spec: { client: { count: 2 } },
    message: /\.spec\.client: field not declared in schema/,
  },
  {
    name: "a toleration with an unknown effect",
    spec: { clients: { tolerations: [{ key: "edge", effect: "Sometimes" }] } },
    message: /spec\.clients\.tolerations\[0\]\.effect: Unsupported value: "Sometimes"/,
  },
  {
    name: "a NATS URL that is not one",
    spec: { transport: { url: "http://x" } },
    message: /spec\.transport\.url/,
  },
];

for (const c of invalid) {
  test(`the CRD schema refuses ${c.name} with a message naming the field`, async () => {
    const r = await apply(yaml.dump(jobManifest("bad", c.spec as SpecInput)));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, c.message);
  });
}

test("an immutable field cannot change on a live job", async () => {
  assert.equal((await apply(yaml.dump(jobManifest("fixed", { clients: { count: 2 } })), false)).code, 0);
  const r = await apply(yaml.dump(jobManifest("fixed", { clients: { count: 3 } })));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.clients\.count: Invalid value: .*field is immutable/);
});
