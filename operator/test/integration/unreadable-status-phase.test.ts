// The phase of a job whose stored status does not read, as the operator counts it, on a real
// kube-apiserver: `sfprompt_operator_jobs{phase}`, the job's `sfprompt_job_phase` series and the
// PHASE column of `kubectl get` say the same (ADR 0023, amendment 6). The status stays unreadable
// because the operator that scrapes it may not write statuses (an operator whose Role lacks
// sfpromptjobs/status, or the gap before a leader's next write).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { StatusSchema } from "@sfprompt/api";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import { startOperator, type RunningOperator } from "../../src/operator.js";
import { createLogger } from "../../src/log.js";
import { jobManifest } from "../fixtures.js";
import { patchStatusUnderOlderCrd } from "../status-under-older-crd.js";
import { createJob, getJob, runOperator, startWorld, testConfig, waitForJob, type World } from "./harness.js";

let world: World;
let operator: RunningOperator | undefined;

before(async () => {
  world = await startWorld();
});
after(async () => {
  await operator?.stop();
  await world?.stop();
});

/** The chart's rules for jobs and their children (templates/rbac.yaml), without sfpromptjobs/status. */
const NO_STATUS_RULES = [
  {
    apiGroups: ["sfprompt.io"],
    resources: ["sfpromptjobs"],
    verbs: ["get", "list", "watch", "patch", "delete"],
  },
  { apiGroups: ["sfprompt.io"], resources: ["sfpromptjobs/finalizers"], verbs: ["update"] },
  {
    apiGroups: [""],
    resources: ["pods", "services", "configmaps", "secrets"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
  },
  {
    apiGroups: ["apps"],
    resources: ["deployments"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
  },
  { apiGroups: [""], resources: ["events"], verbs: ["create"] },
];

/** A KubeConfig for ServiceAccount `name` in default, bound cluster-wide to NO_STATUS_RULES. */
async function noStatusAccount(name: string): Promise<KubeConfig> {
  const rbac = world.cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await world.core.createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name } } });
  await rbac.createClusterRole({ body: { metadata: { name }, rules: NO_STATUS_RULES } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: "default" }],
    },
  });
  const tr = await world.core.createNamespacedServiceAccountToken({
    namespace: "default",
    name,
    body: { spec: { expirationSeconds: 3600, audiences: [] } },
  });
  const cluster = world.cp.kubeConfig.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: tr.status!.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return kc;
}

/** `kubectl get sfpromptjobs`: the PHASE column by job name ("" where it is blank). */
async function phaseColumn(): Promise<Record<string, string>> {
  const out = (await kubectl(["get", "sfpromptjobs"], world.cp.kubeconfigPath)).stdout;
  const [header, ...rows] = out.trimEnd().split("\n");
  const at = header!.indexOf("PHASE");
  const next = header!.indexOf("ROUND");
  return Object.fromEntries(rows.map((r) => [r.split(/\s+/)[0]!, r.slice(at, next).trim()]));
}

/** `sfprompt_operator_jobs` and each job's phase series (the labels whose value is 1) on /metrics. */
async function scrapePhases(): Promise<{ counts: Record<string, number>; jobs: Record<string, string[]> }> {
  const text = await (await fetch(`http://127.0.0.1:${operator!.httpPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  const jobs: Record<string, string[]> = {};
  for (const m of text.matchAll(/^sfprompt_operator_jobs\{phase="(\w+)"\} (\d+)$/gm))
    counts[m[1]!] = Number(m[2]);
  for (const m of text.matchAll(
    /^sfprompt_job_phase\{namespace="default",sfprompt_job="([^"]+)",phase="(\w+)"\} (\d)$/gm,
  )) {
    jobs[m[1]!] ??= [];
    if (m[3] === "1") jobs[m[1]!]!.push(m[2]!);
  }
  return { counts, jobs };
}

test("a Pending job whose stored status does not read is counted Pending, as its phase series and kubectl get say; a job with no phase yet in no phase", async () => {
  const writer = await runOperator(world, testConfig(world));
  await createJob(world, jobManifest("handtime", { clients: { count: 1 } }));
  await waitForJob(world, "handtime", (j) => j.status?.phase === "Pending", "Pending");
  await writer.stop();
  await patchStatusUnderOlderCrd(
    world.cp.kubeconfigPath,
    { namespace: "default", name: "handtime" },
    { completionTime: "2026-11-28t05:00:00z" },
  );

  operator = await startOperator(testConfig(world), {
    kubeConfig: await noStatusAccount("no-status"),
    log: createLogger({ level: "error" }),
  });
  await createJob(world, jobManifest("unwritten", { clients: { count: 1 } }));
  const seen = await waitFor(
    async () => {
      const s = await scrapePhases();
      return s.jobs.handtime && s.jobs.unwritten ? s : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, description: "both jobs on /metrics" },
  );
  const stored = await getJob(world, "handtime");
  assert.equal(StatusSchema.safeParse(stored!.status).success, false, "the status still does not read");
  assert.equal((await getJob(world, "unwritten"))!.status, undefined, "no status was written");

  assert.deepEqual(await phaseColumn(), { handtime: "Pending", unwritten: "" });
  assert.deepEqual(seen.jobs, { handtime: ["Pending"], unwritten: [] });
  assert.deepEqual(seen.counts, {
    Pending: 1,
    Running: 0,
    Suspended: 0,
    Succeeded: 0,
    Failed: 0,
    Unknown: 0,
  });
});
