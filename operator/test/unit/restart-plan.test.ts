import { test } from "node:test";
import assert from "node:assert/strict";
import {
  planClient,
  planClients,
  type ClientPlan,
  type RecordedClient,
} from "../../src/desired/restart-plan.js";
import { clientPod } from "../fixtures.js";

const policy = { limit: 2, baseMs: 1000, maxMs: 10_000 };
const failedAt = new Date("2026-01-01T00:10:00Z");
const t = (msAfterFailure: number): number => failedAt.getTime() + msAfterFailure;

interface Case {
  name: string;
  pods: Parameters<typeof clientPod>[0][];
  now: number;
  /** What the job's status said of the client. */
  recorded?: RecordedClient;
  want: Omit<ClientPlan, "pod" | "index">;
}

const cases: Case[] = [
  { name: "no pod yet: create attempt 0", pods: [], now: t(0), want: { attempt: 0, state: "running" } },
  {
    name: "a running pod is kept",
    pods: [{ index: 0, phase: "Running" }],
    now: t(0),
    want: { attempt: 0, state: "running" },
  },
  {
    name: "a failed first pod waits the base delay",
    pods: [{ index: 0, phase: "Failed", finishedAt: failedAt }],
    now: t(400),
    want: { attempt: 0, state: "waiting", waitMs: 600 },
  },
  {
    name: "a failed first pod is replaced by attempt 1 once the delay passed",
    pods: [{ index: 0, phase: "Failed", finishedAt: failedAt }],
    now: t(1000),
    want: { attempt: 1, state: "running" },
  },
  {
    name: "the second failure waits twice as long",
    pods: [{ index: 0, attempt: 1, phase: "Failed", finishedAt: failedAt }],
    now: t(1500),
    want: { attempt: 1, state: "waiting", waitMs: 500 },
  },
  {
    name: "the newest attempt decides when an old failed pod is still listed",
    pods: [
      { index: 0, attempt: 0, phase: "Failed", finishedAt: failedAt },
      { index: 0, attempt: 1, phase: "Running" },
    ],
    now: t(0),
    want: { attempt: 1, state: "running" },
  },
  {
    name: "a pod that failed at the limit is not replaced",
    pods: [{ index: 0, attempt: 2, phase: "Failed", finishedAt: failedAt }],
    now: t(1_000_000),
    want: { attempt: 2, state: "exhausted" },
  },
  {
    name: "the pod of restart 1 deleted by hand while it ran: restart 1 again, not counted",
    pods: [],
    recorded: { index: 0, phase: "Running", restarts: 1, pod: "demo-client-0-r1" },
    now: t(0),
    want: { attempt: 1, state: "running", recreate: true },
  },
  {
    name: "restart 1 not yet in the cache after it was created: the same attempt, nothing went away",
    pods: [{ index: 0, attempt: 0, phase: "Failed", finishedAt: failedAt }],
    recorded: { index: 0, phase: "Pending", restarts: 1 },
    now: t(5000),
    want: { attempt: 1, state: "running" },
  },
  {
    name: "a failed pod deleted by hand during its backoff counts its failure",
    pods: [],
    recorded: { index: 0, phase: "Failed", restarts: 1, pod: "demo-client-0-r1" },
    now: t(0),
    want: { attempt: 2, state: "running" },
  },
  {
    name: "a failed pod at the limit deleted by hand leaves the client exhausted",
    pods: [],
    recorded: { index: 0, phase: "Failed", restarts: 2, pod: "demo-client-0-r2" },
    now: t(0),
    want: { attempt: 2, state: "exhausted" },
  },
];

for (const c of cases) {
  test(`restart plan: ${c.name}`, () => {
    const {
      pod: _pod,
      index: _index,
      replaces: _replaces,
      ...plan
    } = planClient(0, c.pods.map(clientPod), policy, c.now, c.recorded);
    assert.deepEqual(plan, c.want);
  });
}

test("plans cover every client index and ignore pods of indexes beyond the count", () => {
  const plans = planClients(
    2,
    [clientPod({ index: 1, phase: "Running" }), clientPod({ index: 5, phase: "Running" })],
    policy,
    0,
  );
  assert.deepEqual(
    plans.map((p) => [p.index, p.attempt, p.pod?.metadata?.name]),
    [
      [0, 0, undefined],
      [1, 0, "demo-client-1"],
    ],
  );
});
