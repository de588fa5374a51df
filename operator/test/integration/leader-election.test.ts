import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { waitFor } from "@sfprompt/kube-testing";
import type { RunningOperator } from "../../src/operator.js";
import { jobManifest } from "../fixtures.js";
import {
  createJob,
  podNames,
  runOperator,
  startWorld,
  stopInOrder,
  testConfig,
  type World,
} from "./harness.js";

let world: World;
const operators: RunningOperator[] = [];

before(async () => {
  world = await startWorld();
});
after(async () => {
  await stopInOrder(...operators.map((o) => () => o.stop()), () => world?.stop());
});

/**
 * A lease far longer than anything the test waits for: a leader on a busy machine does not miss its
 * renew deadline, and the standby can take the lease within the test only when it was handed back.
 */
const LEASE_MS = 30_000;

function elected(identity: string) {
  return testConfig(world, (c) => {
    c.leaderElection = {
      ...c.leaderElection,
      enabled: true,
      name: "sfprompt-test",
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: 20_000,
      retryPeriodMs: 250,
    };
  });
}

test("of two operators only the lease holder reconciles; when it stops, the other takes over at once", async () => {
  const a = await runOperator(world, elected("op-a"));
  operators.push(a);
  await waitFor(() => a.isLeader(), { timeoutMs: 30_000, description: "op-a to lead" });
  const b = await runOperator(world, elected("op-b"));
  operators.push(b);

  await createJob(world, jobManifest("one", { clients: { count: 1 } }));
  await waitFor(async () => (await podNames(world, "one")).length === 1, {
    timeoutMs: 30_000,
    description: "pod of job one",
  });
  await new Promise((r) => setTimeout(r, 1000)); // several renew periods: b must stay a standby
  assert.equal(b.isLeader(), false);
  assert.ok(a.metrics.reconciles.get({ result: "success" }) > 0);
  assert.equal(b.metrics.reconciles.get({ result: "success" }), 0, "the standby reconciled nothing");
  const coordination = world.cp.kubeConfig.makeApiClient(CoordinationV1Api);
  const lease = await coordination.readNamespacedLease({ name: "sfprompt-test", namespace: "default" });
  assert.equal(lease.spec!.holderIdentity, "op-a");

  // A standby is Ready (200): it serves the webhook, and a rollout must be able to count it (ADR 0023).
  const ready = await fetch(`http://127.0.0.1:${b.httpPort}/readyz`);
  assert.deepEqual([ready.status, await ready.text()], [200, "standby (not the leader)"]);
  const metrics = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text();
  assert.match(metrics, /^sfprompt_operator_is_leader 1$/m);
  assert.match(metrics, /^sfprompt_operator_jobs\{phase="Pending"\} 1$/m);
  assert.match(metrics, /^sfprompt_job_phase\{namespace="default",sfprompt_job="one",phase="Pending"\} 1$/m);
  // Only the leader reports jobs: the standby's /metrics has the families but no job's series.
  const standby = await (await fetch(`http://127.0.0.1:${b.httpPort}/metrics`)).text();
  assert.match(standby, /^sfprompt_operator_is_leader 0$/m);
  assert.match(standby, /^# TYPE sfprompt_job_phase gauge$/m);
  assert.doesNotMatch(standby, /^sfprompt_job_/m);

  const t0 = Date.now();
  await a.stop();
  operators.splice(operators.indexOf(a), 1);
  await waitFor(() => b.isLeader(), { timeoutMs: LEASE_MS / 2, description: "op-b to take over" });
  assert.ok(
    Date.now() - t0 < LEASE_MS / 2,
    `the released lease is taken without waiting out its ${LEASE_MS / 1000} s duration`,
  );
  await createJob(world, jobManifest("two", { clients: { count: 1 } }));
  await waitFor(async () => (await podNames(world, "two")).length === 1, {
    timeoutMs: 30_000,
    description: "op-b reconciles job two",
  });
  const after = await coordination.readNamespacedLease({ name: "sfprompt-test", namespace: "default" });
  assert.equal(after.spec!.holderIdentity, "op-b");
  // The new leader reports every job, the one it found as well as the one created under it.
  const pending = (job: string): RegExp =>
    new RegExp(`^sfprompt_job_phase\\{namespace="default",sfprompt_job="${job}",phase="Pending"\\} 1$`, "m");
  await waitFor(
    async () => {
      const taken = await (await fetch(`http://127.0.0.1:${b.httpPort}/metrics`)).text();
      return pending("one").test(taken) && pending("two").test(taken);
    },
    { timeoutMs: 30_000, description: "op-b to report both jobs as Pending" },
  );
  assert.equal(after.spec!.leaseTransitions, 2);
});
