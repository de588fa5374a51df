// The generated CRD and the zod schema agree, on a real kube-apiserver, on the values where they
// used to differ (ADR 0002, amendment 1): whatever the API server stores reads with zod, and what
// zod rejects the API server refuses up front, naming the field. Bodies are raw JSON text, so that
// integers past 2^53 reach the server exactly as a user's YAML would.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { kubectl, startControlPlane, waitForCrd, type ControlPlane } from "@sfprompt/kube-testing";
import { CRD_NAME, CRD_PATH, parseJob, StatusSchema } from "../src/index.js";

const root = new URL("../../../", import.meta.url).pathname;
const SMILE = "\u{1F600}";
let cp: ControlPlane;

function k(args: string[], input?: string): ReturnType<typeof kubectl> {
  return kubectl(args, cp.kubeconfigPath, { allowFailure: true, ...(input === undefined ? {} : { input }) });
}

before(async () => {
  cp = await startControlPlane();
  await kubectl(["apply", "--server-side", "-f", root + CRD_PATH], cp.kubeconfigPath);
  await waitForCrd(cp.kubeConfig, CRD_NAME, { timeoutMs: 60_000 });
  await k(["create", "-f", "-"], job("status-target", "{}"));
});

after(async () => {
  await cp?.stop();
});

function job(name: string, spec: string): string {
  return `{"apiVersion":"sfprompt.io/v1alpha1","kind":"SFPromptJob","metadata":{"name":"${name}","namespace":"default"},"spec":${spec}}`;
}

/** A value both sides must judge alike; `field` is where the API server names a refusal. */
interface Case {
  name: string;
  body: string;
  verdict: "stored" | "refused";
  field?: string;
}

const toleration = (seconds: string): string =>
  `{"clients":{"tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":${seconds}}]}}`;

const specCases: Case[] = [
  {
    name: "a tolerationSeconds of 2^53",
    body: toleration("9007199254740992"),
    verdict: "refused",
    field: "spec.clients.tolerations[0].tolerationSeconds",
  },
  {
    name: "a tolerationSeconds of -2^53",
    body: toleration("-9007199254740992"),
    verdict: "refused",
    field: "spec.clients.tolerations[0].tolerationSeconds",
  },
  { name: "a tolerationSeconds of 2^53 - 1", body: toleration("9007199254740991"), verdict: "stored" },
  {
    name: "a negative integer quantity",
    body: `{"server":{"resources":{"requests":{"cpu":-1}}}}`,
    verdict: "refused",
    field: "spec.server.resources.requests.cpu",
  },
  {
    name: "an integer quantity of 2^53",
    body: `{"clients":{"resources":{"limits":{"memory":9007199254740992}}}}`,
    verdict: "refused",
    field: "spec.clients.resources.limits.memory",
  },
  {
    name: "an empty resource name",
    body: `{"clients":{"resources":{"requests":{"":"1"}}}}`,
    verdict: "refused",
    field: "spec.clients.resources.requests",
  },
  {
    name: "a resource name of 254 characters",
    body: `{"server":{"resources":{"limits":{"${"r".repeat(254)}":"1"}}}}`,
    verdict: "refused",
    field: "spec.server.resources.limits",
  },
  {
    name: "an empty node-selector key",
    body: `{"clients":{"nodeSelector":{"":"edge"}}}`,
    verdict: "refused",
    field: "spec.clients.nodeSelector",
  },
  {
    name: "a node-selector key of 318 characters",
    body: `{"server":{"nodeSelector":{"${"n".repeat(318)}":"gpu"}}}`,
    verdict: "refused",
    field: "spec.server.nodeSelector",
  },
  {
    name: "a NATS URL with a no-break space (a space to zod, not to RE2's \\s)",
    body: JSON.stringify({ transport: { url: "nats://nats.example\u00a0:4222" } }),
    verdict: "refused",
    field: "spec.transport.url",
  },
  {
    name: "a NATS URL with a vertical tab",
    body: JSON.stringify({ transport: { url: "nats://nats.example\u000b:4222" } }),
    verdict: "refused",
    field: "spec.transport.url",
  },
  {
    name: "two NATS URLs with credentials",
    body: JSON.stringify({ transport: { url: "nats://u:p@a.example:4222,tls://b.example:4222" } }),
    verdict: "stored",
  },
  {
    name: "a model path of 3000 characters outside the BMP (4096 is counted in characters by both)",
    body: JSON.stringify({ model: { source: { path: SMILE.repeat(3000) } } }),
    verdict: "stored",
  },
];

const statusCases: Case[] = [
  {
    name: "a completionTime with an offset",
    body: `{"completionTime":"2026-11-28T05:00:00+01:00"}`,
    verdict: "stored",
  },
  {
    name: "a startTime with nanoseconds",
    body: `{"startTime":"2026-11-28T05:00:00.123456789Z"}`,
    verdict: "stored",
  },
  {
    name: "a lower-case t and z",
    body: `{"completionTime":"2026-11-28t05:00:00z"}`,
    verdict: "refused",
    field: "status.completionTime",
  },
  {
    name: "a comma before the fraction",
    body: `{"startTime":"2026-11-28T05:00:00,5Z"}`,
    verdict: "refused",
    field: "status.startTime",
  },
  {
    name: "an offset of +99:99",
    body: `{"server":{"readyTime":"2026-11-28T05:00:00+99:99"}}`,
    verdict: "refused",
    field: "status.server.readyTime",
  },
  {
    name: "text after the time zone",
    body: `{"conditions":[{"type":"Running","status":"True","reason":"R","message":"","lastTransitionTime":"2026-11-28T05:00:00Zt"}]}`,
    verdict: "refused",
    field: "status.conditions[0].lastTransitionTime",
  },
  { name: "a round of 2^53", body: `{"round":9007199254740992}`, verdict: "refused", field: "status.round" },
  {
    name: "a byte count of 2^63 - 1",
    body: `{"communication":{"total":9223372036854775807}}`,
    verdict: "refused",
    field: "status.communication.total",
  },
  {
    name: "a client's samples of 2^53",
    body: `{"clients":[{"index":0,"phase":"Running","samples":9007199254740992}]}`,
    verdict: "refused",
    field: "status.clients[0].samples",
  },
  { name: "a round of 2^53 - 1", body: `{"round":9007199254740991}`, verdict: "stored" },
];

function judge(
  c: Case,
  r: { code: number; stdout: string; stderr: string },
  zodReads: (o: unknown) => string[],
): void {
  if (c.verdict === "refused") {
    assert.notEqual(r.code, 0, `the API server stored it: ${r.stdout.slice(0, 300)}`);
    assert.ok(r.stderr.includes(`${c.field}:`), r.stderr);
    return;
  }
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(zodReads(JSON.parse(r.stdout)), [], "zod rejects what the API server stored");
}

describe("the CRD and zod judge alike, in a real API server", () => {
  specCases.forEach((c, i) => {
    it(`spec: ${c.verdict === "stored" ? "both accept" : "the API server refuses, as zod does,"} ${c.name}`, async () => {
      const r = await k(["create", "-f", "-", "-o", "json"], job(`agree-${i}`, c.body));
      judge(c, r, (o) => {
        const parsed = parseJob(o);
        return parsed.ok ? [] : parsed.errors.map((e) => `${e.path}: ${e.message}`);
      });
      if (c.verdict === "refused") assert.equal(parseJob(JSON.parse(job("z", c.body))).ok, false);
    });
  });

  statusCases.forEach((c) => {
    it(`status: ${c.verdict === "stored" ? "both accept" : "the API server refuses, as zod does,"} ${c.name}`, async () => {
      const patch = (body: string, type: string) =>
        k([
          "patch",
          "sfpromptjob",
          "status-target",
          "-n",
          "default",
          "--subresource=status",
          `--type=${type}`,
          "-p",
          body,
          "-o",
          "json",
        ]);
      assert.equal((await patch(`[{"op":"replace","path":"/status","value":{}}]`, "json")).code, 0);
      const r = await patch(`{"status":${c.body}}`, "merge");
      judge(c, r, (o) => {
        const parsed = StatusSchema.safeParse((o as { status: unknown }).status);
        return parsed.success ? [] : parsed.error.issues.map((e) => `${e.path.join(".")}: ${e.message}`);
      });
      if (c.verdict === "refused") assert.equal(StatusSchema.safeParse(JSON.parse(c.body)).success, false);
    });
  });
});
