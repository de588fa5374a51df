// Of a spec that no longer reads, what the stream read-back takes: the NATS URL and resumeFrom where
// those fields read as the API's, else the operator's NATS and none (ADR 0023, amendment 24).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { KubernetesObject } from "@kubernetes/client-node";
import { rawNatsUrl, rawResumeFrom } from "../../src/reconcile/invalid-read-back.js";

const OPERATOR = "nats://operator-nats:4222";
const withSpec = (spec: unknown): KubernetesObject => ({ metadata: { name: "demo" }, ...{ spec } });

describe("rawNatsUrl", () => {
  const cases: { name: string; spec: unknown; url: string }[] = [
    { name: "a URL that reads", spec: { transport: { url: "nats://edge:4222" } }, url: "nats://edge:4222" },
    { name: "none set: the operator's", spec: { transport: {} }, url: OPERATOR },
    {
      name: "one that does not read: the operator's",
      spec: { transport: { url: "http://x" } },
      url: OPERATOR,
    },
    { name: "not a string", spec: { transport: { url: 4222 } }, url: OPERATOR },
    { name: "no spec at all", spec: undefined, url: OPERATOR },
  ];
  for (const c of cases) test(c.name, () => assert.equal(rawNatsUrl(withSpec(c.spec), OPERATOR), c.url));
});

describe("rawResumeFrom", () => {
  test("one that reads", () => {
    assert.deepEqual(rawResumeFrom(withSpec({ output: { resumeFrom: { job: "older" } } })), { job: "older" });
  });
  test("one that does not read, or none: undefined", () => {
    assert.equal(rawResumeFrom(withSpec({ output: { resumeFrom: { job: 7 } } })), undefined);
    assert.equal(rawResumeFrom(withSpec({ output: {} })), undefined);
    assert.equal(rawResumeFrom(withSpec("nonsense")), undefined);
  });
});
