// When the Normal ClientPodsOutdated event is recorded (ADR 0040, amendments 1 and 3): once per change
// of what client pods are made from (status.clientRevision), not for each edit of the job, as pure
// functions of a job, its last status and its running client pods, the way the reconcile chains them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import type { SFPromptJob, Status } from "@sfprompt/api";
import { transitionEvents, type JobEvent } from "../../src/reconcile/transition-events.js";
import { computeStatus } from "../../src/status/compute-status.js";
import { job, type SpecInput } from "../fixtures.js";
import { childrenFor } from "../reconcile-children.js";

const NOW = new Date("2026-01-01T01:00:00.000Z");
const BASE: SpecInput = { clients: { count: 2 }, training: { rounds: 4 } };
const LR = (learningRate: number): SpecInput => ({
  ...BASE,
  training: { rounds: 4, optimizer: { learningRate } },
});

const at = (spec: SpecInput, generation: number): SFPromptJob => {
  const j = job("demo", spec);
  return { ...j, metadata: { ...j.metadata, generation } };
};

/** One reconcile of `j` whose last written status is `previous` and whose client pods are `pods`. */
function reconcile(j: SFPromptJob, previous: Status | undefined, pods: V1Pod[]) {
  const desired = childrenFor({ job: j, now: NOW, previous, pods });
  const { plans, lifecycle } = desired;
  const status = computeStatus({
    job: { ...j, status: previous },
    lifecycle,
    deployment: undefined,
    plans,
    progress: undefined,
    now: NOW,
    desired: desired.apply,
    clientRevision: desired.clientRevision,
  });
  const events = transitionEvents({
    previous,
    next: status,
    job: j,
    plans,
    restartLimit: 3,
    created: () => false,
  });
  return { status, outdated: events.filter((e) => e.reason === "ClientPodsOutdated"), pods: desired.apply };
}

/** The running client pods a reconcile of `j` (at generation 1) makes. */
function runningPodsOf(j: SFPromptJob): V1Pod[] {
  return (reconcile(j, undefined, []).pods.filter((o) => o.kind === "Pod") as V1Pod[]).map((p) => ({
    ...p,
    metadata: { ...p.metadata, creationTimestamp: NOW },
    status: { phase: "Running" },
  }));
}

/** The ClientPodsOutdated events of a reconcile per generation, pods made from generation 1 all along. */
function edits(specs: SpecInput[]): JobEvent[][] {
  const pods = runningPodsOf(at(specs[0]!, 1));
  let previous: Status | undefined;
  const out: JobEvent[][] = [];
  specs.forEach((spec, i) => {
    const r = reconcile(at(spec, i + 1), previous, pods);
    out.push(r.outdated);
    previous = r.status as Status;
  });
  return out;
}

/** The generations whose reconcile recorded the event, as its message names them. */
const recordedAt = (events: JobEvent[][]): (string | undefined)[] =>
  events.flatMap((e) => e.map((x) => /^spec generation (\d+): /.exec(x.message)?.[1]));

describe("ClientPodsOutdated", () => {
  const cases: { name: string; specs: SpecInput[]; recorded: string[] }[] = [
    { name: "an edit the clients read records one", specs: [BASE, LR(0.05)], recorded: ["2"] },
    {
      name: "a second edit they read records another",
      specs: [BASE, LR(0.05), LR(0.02)],
      recorded: ["2", "3"],
    },
    {
      name: "an edit of server.replicas while the pods are outdated records none",
      specs: [BASE, LR(0.05), { ...LR(0.05), server: { replicas: 2 } }],
      recorded: ["2"],
    },
    {
      name: "edits of the TTL and the deadline record none",
      specs: [
        BASE,
        LR(0.05),
        { ...LR(0.05), ttlSecondsAfterFinished: 60 },
        { ...LR(0.05), activeDeadlineSeconds: 600 },
      ],
      recorded: ["2"],
    },
    {
      name: "an env edit after an optimizer edit records another",
      specs: [BASE, LR(0.05), { ...LR(0.05), clients: { count: 2, env: [{ name: "A", value: "1" }] } }],
      recorded: ["2", "3"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(recordedAt(edits(c.specs)), c.recorded);
    });
  }

  it("names the spec's generation, so two edits that leave the condition's message alike both show", () => {
    const [, second, third] = edits([BASE, LR(0.05), LR(0.02)]);
    assert.match(second![0]!.message, /^spec generation 2: 2 of 2 running client pods run an older spec/);
    assert.match(third![0]!.message, /^spec generation 3: 2 of 2 running client pods run an older spec/);
    assert.equal(second![0]!.message.slice(19), third![0]!.message.slice(19));
  });

  it("after an upgrade, a status without clientRevision records nothing more for its generation", () => {
    const pods = runningPodsOf(at(BASE, 1));
    // what an operator before clientRevision wrote after the edit to generation 2
    const { clientRevision: _none, ...older } = reconcile(at(LR(0.05), 2), undefined, pods).status as Status;
    const upgraded = reconcile(at(LR(0.05), 2), older, pods);
    const ttl = reconcile(
      at({ ...LR(0.05), ttlSecondsAfterFinished: 60 }, 3),
      upgraded.status as Status,
      pods,
    );
    const lr = reconcile(at(LR(0.02), 4), ttl.status as Status, pods);
    assert.deepEqual(recordedAt([upgraded.outdated, ttl.outdated, lr.outdated]), ["4"]);
  });
});
