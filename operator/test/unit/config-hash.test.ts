// Which spec edits change the config digest on the server's pod template and on client pods (ADR
// 0040): only edits of what that role's process reads; metadata, pod placement and the operator's
// own fields leave both digests as they were.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { SFPromptJob } from "@sfprompt/api";
import { ANNOTATION_CONFIG_HASH } from "../../src/names.js";
import { job, type SpecInput } from "../fixtures.js";
import { childrenFor } from "../reconcile-children.js";

const NOW = new Date("2026-01-01T01:00:00.000Z");
const BASE: SpecInput = { clients: { count: 2 }, training: { rounds: 5 } };

/** The config digests the job's children get: the server's pod template's and client 0's pod's. */
function digests(j: SFPromptJob): { server: string; client: string } {
  const out = childrenFor({ job: j, now: NOW, restart: { limit: 1, baseMs: 1, maxMs: 1 } });
  const d = out.apply.find((o) => o.kind === "Deployment") as V1Deployment;
  const pod = out.apply.find((o) => o.kind === "Pod") as V1Pod;
  return {
    server: d.spec!.template.metadata!.annotations![ANNOTATION_CONFIG_HASH]!,
    client: pod.metadata!.annotations![ANNOTATION_CONFIG_HASH]!,
  };
}

const edited = (spec: SpecInput, generation = 2): SFPromptJob => {
  const j = job("demo", spec);
  return { ...j, metadata: { ...j.metadata, generation } };
};

describe("config digests per role", () => {
  const before = digests(job("demo", BASE));
  const cases: { name: string; spec: SpecInput; server: boolean; client: boolean }[] = [
    { name: "a new generation alone changes neither", spec: BASE, server: false, client: false },
    {
      name: "clients' node selector (pod spec only) changes neither",
      spec: { ...BASE, clients: { count: 2, nodeSelector: { site: "b" } } },
      server: false,
      client: false,
    },
    {
      name: "the server's node selector (pod spec only) changes neither",
      spec: { ...BASE, server: { nodeSelector: { gpu: "a100" } } },
      server: false,
      client: false,
    },
    {
      name: "ttlSecondsAfterFinished (the operator's alone) changes neither",
      spec: { ...BASE, ttlSecondsAfterFinished: 600 },
      server: false,
      client: false,
    },
    {
      name: "server.replicas (the Deployment's count) changes neither",
      spec: { ...BASE, server: { replicas: 2 } },
      server: false,
      client: false,
    },
    {
      name: "server.cpuFallback is the server's alone",
      spec: { ...BASE, server: { cpuFallback: false } },
      server: true,
      client: false,
    },
    {
      name: "training.rounds is read by both",
      spec: { ...BASE, training: { rounds: 8 } },
      server: true,
      client: true,
    },
    {
      name: "the learning rate is read by both",
      spec: { ...BASE, training: { rounds: 5, optimizer: { learningRate: 0.5 } } },
      server: true,
      client: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const after = digests(edited(c.spec, 7));
      assert.equal(after.server !== before.server, c.server, "server pod template's digest changed");
      assert.equal(after.client !== before.client, c.client, "client pods' digest changed");
    });
  }
});
