// The webhook against a real kube-apiserver: its certificate generated into a Secret and its CA
// patched into the webhook configurations by the operator's own code, the API server calling it
// over TLS on loopback, refusals naming the field, defaults on the created objects.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, applyDefaults, crdYaml } from "@sfprompt/api";
import { applyObjects, kubectl, waitFor, type ControlPlane } from "@sfprompt/kube-testing";
import yaml from "js-yaml";
import { invalidCases } from "../../../packages/api/test/helpers/cases.js";
import { jobWith, type Json } from "../../../packages/api/test/helpers/builders.js";
import { patchCaBundles } from "../../src/webhook/ca-bundle.js";
import { bundleFromSecret } from "../../src/webhook/certs/cert-secret.js";
import { certProblem, generateWebhookCerts } from "../../src/webhook/certs/webhook-certs.js";
import {
  DENIED,
  VALIDATING,
  startWebhookControlPlane,
  type WebhookControlPlane,
} from "./webhook-control-plane.js";

const REPO = join(import.meta.dirname, "..", "..", "..");

let plane: WebhookControlPlane;
let cp: ControlPlane;
let custom: CustomObjectsApi;

const createRefusal = (job: Json): Promise<string | undefined> => plane.createRefusal(job);

async function getSpec(namespace: string, name: string): Promise<unknown> {
  const o = (await custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    name,
  })) as Json;
  return o.spec;
}

const zodSpec = (job: Json): unknown => JSON.parse(JSON.stringify(applyDefaults(job).spec));
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

before(async () => {
  // The configurations do not exist yet (as when the operator starts before Helm creates them).
  plane = await startWebhookControlPlane(["team-a"], (webhook) => assert.equal(webhook.ready(), false));
  cp = plane.cp;
  custom = plane.custom;
});
after(async () => {
  await plane?.stop();
});

describe("generated certificate", () => {
  it("is stored in the Secret, covers the service names and 127.0.0.1, and its CA is the caBundle", async () => {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const secret = await core.readNamespacedSecret({
      namespace: "sfprompt-system",
      name: "sfprompt-operator-webhook-cert",
    });
    assert.equal(secret.type, "kubernetes.io/tls");
    const bundle = bundleFromSecret(secret);
    assert.equal(
      certProblem(bundle, { hosts: ["sfprompt-operator-webhook.sfprompt-system.svc", "127.0.0.1"] }),
      undefined,
    );
    const { stdout } = await kubectl(
      [
        "get",
        "validatingwebhookconfiguration",
        VALIDATING,
        "-o",
        "jsonpath={.webhooks[0].clientConfig.caBundle}",
      ],
      cp.kubeconfigPath,
    );
    assert.equal(Buffer.from(stdout, "base64").toString(), bundle.caPem);
  });
});

describe("validating webhook behind the API server", () => {
  for (const c of invalidCases.filter((c) => c.path.startsWith("spec."))) {
    it(`refuses ${c.name}, naming ${c.path}`, async () => {
      const message = await createRefusal(c.job as Json);
      assert.ok(message !== undefined && message.startsWith(DENIED), message);
      assert.ok(message.includes(`${c.path}: `) && message.includes(c.message), message);
    });
  }
  it("refuses relative folder and JSONL data paths on create, naming each field: the pods mount them from their node", async () => {
    const data = (source: string, held: string): Json => ({
      data: { source: { jsonl: { path: source } }, evalSource: { imageFolder: { path: held } } },
    });
    const message = await createRefusal(
      jobWith(data("data/train.jsonl", "held-out"), { name: "rel", namespace: "team-a" }),
    );
    assert.ok(message !== undefined && message.startsWith(DENIED), message);
    assert.match(
      message,
      /spec\.data\.source\.jsonl\.path: is "data\/train\.jsonl", a relative path; the client pods mount it from their node, which takes an absolute path/,
    );
    assert.match(
      message,
      /spec\.data\.evalSource\.imageFolder\.path: is "held-out", a relative path; the server pods/,
    );
    const absolute = jobWith(data("/srv/sfprompt/train.jsonl", "/srv/sfprompt/held-out"), {
      name: "abs",
      namespace: "team-a",
    });
    assert.equal(await createRefusal(absolute), undefined, "absolute paths are created");
  });
  it("kubectl apply prints each refused field on its own line (from the response's causes)", async () => {
    const manifest = yaml.dump(
      jobWith({ training: { rounds: 0 }, clients: { count: 0 } }, { name: "bad", namespace: "team-a" }),
    );
    const r = await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, { input: manifest, allowFailure: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The request is invalid/);
    assert.match(r.stderr, /^\* spec\.clients\.count: must be ≥ 1 \(got 0\)$/m);
    assert.match(r.stderr, /^\* spec\.training\.rounds: must be ≥ 1 \(got 0\)$/m);
  });
});

describe("defaulting webhook behind the API server", () => {
  const examples = readdirSync(join(REPO, "examples")).filter((f) => f.endsWith(".yaml"));
  for (const file of examples) {
    it(`examples/${file} is stored with exactly zod's defaults`, async () => {
      const job = { ...(yaml.load(readFileSync(join(REPO, "examples", file), "utf8")) as Json) };
      job.metadata = { ...(job.metadata as Json), namespace: "team-a" };
      await applyObjects(cp.kubeConfig, [job as never]);
      const name = (job.metadata as { name: string }).name;
      assert.deepEqual(await getSpec("team-a", name), zodSpec(job));
    });
  }
  it("a job created with no spec at all gets the whole defaulted spec", async () => {
    const job = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "SFPromptJob",
      metadata: { name: "bare", namespace: "team-a" },
    };
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: "team-a",
      body: job,
    });
    assert.deepEqual(await getSpec("team-a", "bare"), zodSpec(job));
  });
});

describe("updates behind the API server", () => {
  const patch = (name: string, body: Json) =>
    custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace: "team-a", name, body },
      mergePatch,
    );
  before(async () => {
    await applyObjects(cp.kubeConfig, [
      jobWith({ clients: { count: 3 } }, { name: "upd", namespace: "team-a" }) as never,
    ]);
  });
  it("changing clients.count is refused naming spec.clients.count", async () => {
    const err = (await patch("upd", { spec: { clients: { count: 5 } } }).then(
      () => undefined,
      (e: { body: string }) => JSON.parse(e.body) as { message: string },
    ))!;
    assert.match(err.message, /denied the request: spec\.clients\.count: field is immutable/);
  });
  it("changing rounds is accepted", async () => {
    await patch("upd", { spec: { training: { rounds: 3 } } });
    assert.equal(((await getSpec("team-a", "upd")) as { training: { rounds: number } }).training.rounds, 3);
  });
  it("rounds below the checkpointed round of a running job are refused naming the field, the round and the way out", async () => {
    // the operator's status after the job's server wrote the checkpoint of round 3
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: "team-a",
        name: "upd",
        body: { status: { phase: "Running", lastCheckpoint: { round: 3, object: "checkpoints/round-3" } } },
      },
      mergePatch,
    );
    const r = await kubectl(
      [
        "patch",
        "sfpromptjob",
        "upd",
        "-n",
        "team-a",
        "--type=merge",
        "-p",
        '{"spec":{"training":{"rounds":2}}}',
      ],
      cp.kubeconfigPath,
      { allowFailure: true },
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.training\.rounds: 2 is below round 3 of the job's newest checkpoint/);
    assert.match(r.stderr, /set spec\.training\.rounds to 3 or more .*spec\.output\.resume: false/);
    assert.equal(((await getSpec("team-a", "upd")) as { training: { rounds: number } }).training.rounds, 3);
    await patch("upd", { spec: { training: { rounds: 2 }, output: { resume: false } } });
    assert.equal(((await getSpec("team-a", "upd")) as { training: { rounds: number } }).training.rounds, 2);
  });
  it("turning evaluation on is refused while spec.data.evalSource's path is relative (the server pod would mount it)", async () => {
    const held = (everyRounds: number): Json => ({
      data: {
        source: { jsonl: { path: "/srv/sfprompt/train.jsonl" } },
        evalSource: { jsonl: { path: "held-out.jsonl" } },
      },
      training: { evaluation: { everyRounds } },
    });
    // unread while evaluation is off: created
    await applyObjects(cp.kubeConfig, [jobWith(held(0), { name: "eval-off", namespace: "team-a" }) as never]);
    const err = await patch("eval-off", { spec: { training: { evaluation: { everyRounds: 1 } } } }).then(
      () => undefined,
      (e: { body: string }) => JSON.parse(e.body) as { message: string },
    );
    assert.match(
      err?.message ?? "(accepted)",
      /spec\.data\.evalSource\.jsonl\.path: is "held-out\.jsonl", a relative path; the server pods mount it/,
    );
    const stored = (await getSpec("team-a", "eval-off")) as {
      training: { evaluation: { everyRounds: number } };
    };
    assert.equal(stored.training.evaluation.everyRounds, 0);
    // an edit that leaves evaluation off is not refused for the unread path
    await patch("eval-off", { spec: { training: { rounds: 4 } } });
  });
  it("adding and removing a finalizer is accepted", async () => {
    await patch("upd", { metadata: { finalizers: ["sfprompt.io/test"] } });
    await patch("upd", { metadata: { finalizers: null } });
  });
});

describe("certificate trust", () => {
  it("with a foreign CA in caBundle the API server refuses to call the webhook, and the right CA restores it", async () => {
    const foreign = generateWebhookCerts({ hosts: ["127.0.0.1"] });
    const targets = { validating: [VALIDATING], mutating: [] };
    assert.equal(await patchCaBundles(cp.kubeConfig, targets, foreign.caPem), 1);
    const broken = await waitFor(
      async () => {
        const m = await createRefusal(jobWith({}, { name: "trust", namespace: "team-a" }));
        return m && /failed calling webhook.*(x509|certificate)/.test(m) ? m : undefined;
      },
      { timeoutMs: 20_000, description: "the API server to distrust the webhook" },
    );
    assert.match(broken, /validate\.sfpromptjobs\.sfprompt\.io/);
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const own = bundleFromSecret(
      await core.readNamespacedSecret({
        namespace: "sfprompt-system",
        name: "sfprompt-operator-webhook-cert",
      }),
    );
    assert.equal(await patchCaBundles(cp.kubeConfig, targets, own.caPem), 1);
    await waitFor(
      async () => (await createRefusal(jobWith({}, { name: "trust", namespace: "team-a" }))) === undefined,
      {
        timeoutMs: 20_000,
        description: "the API server to trust the webhook again",
      },
    );
  });
});

describe("with the generated CRD (schema, CEL and defaults) in front of the webhook", () => {
  before(async () => {
    await plane.installCrd(crdYaml());
  });
  for (const file of readdirSync(join(REPO, "examples")).filter((f) => f.endsWith(".yaml"))) {
    it(`examples/${file} is accepted and stored with zod's defaults`, async () => {
      const job = { ...(yaml.load(readFileSync(join(REPO, "examples", file), "utf8")) as Json) };
      const name = `crd-${(job.metadata as { name: string }).name}`;
      job.metadata = { name, namespace: "team-a" };
      await kubectl(["apply", "-f", "-"], cp.kubeconfigPath, { input: yaml.dump(job) });
      assert.deepEqual(await getSpec("team-a", name), zodSpec(job));
    });
  }
  it("an invalid job is still refused with the field named, whichever layer refuses it", async () => {
    const message = await createRefusal(
      jobWith({ training: { rounds: 0 } }, { name: "crd-bad", namespace: "team-a" }),
    );
    assert.match(message ?? "", /spec\.training\.rounds: .*(≥ 1|greater than or equal to 1)/);
  });
});
