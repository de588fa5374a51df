// A stored status that the API's zod schema rejects (a lower-case date-time, an integer past 2^53:
// the CRD of before ADR 0002 amendment 1 stored both, and a cluster upgraded with its jobs in place
// keeps them) on a real kube-apiserver:
// the operator says so once (a warn log per resourceVersion, a Warning Event) and its next write
// replaces the rejected fields while keeping the rest and the job's progress (ADR 0023, amendment 5).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StatusSchema, jobToken } from "@sfprompt/api";
import { ensureJobResources, publishEvent } from "@sfprompt/protocol";
import { createLogger } from "../../src/log.js";
import { startOperator, type RunningOperator } from "../../src/operator.js";
import { jobManifest } from "../fixtures.js";
import { patchStatusUnderOlderCrd } from "../status-under-older-crd.js";
import { createJob, startWorld, testConfig, waitForJob, type JobObject, type World } from "./harness.js";
import { roundFinished } from "./progress-events.js";

let world: World;
let operator: RunningOperator;
let nc: NatsConnection;
const lines: string[] = [];

before(async () => {
  world = await startWorld({ nats: true });
  operator = await startOperator(testConfig(world), {
    kubeConfig: world.cp.kubeConfig,
    log: createLogger({ level: "warn", write: (l) => lines.push(l) }),
  });
  nc = await connect({ servers: world.nats!.url });
});
after(async () => {
  await nc?.drain();
  await operator?.stop();
  await world?.stop();
});

/** Merge-patches the job's status as kubectl did under the older CRD; the new resourceVersion. */
function patchStatus(name: string, status: Record<string, unknown>): Promise<string> {
  return patchStatusUnderOlderCrd(world.cp.kubeconfigPath, { namespace: "default", name }, status);
}

const reads = (j: JobObject): boolean => StatusSchema.safeParse(j.status).success;

interface WarnLine {
  msg: string;
  job: string;
  namespace: string;
  resourceVersion: string;
  issues: { path: string; message: string }[];
}

/** The operator's warn lines about job `name`'s unreadable status. */
function unreadableLogs(name: string): WarnLine[] {
  return lines
    .map((l) => JSON.parse(l) as WarnLine & { level: string })
    .filter((l) => l.level === "warn" && l.job === name && l.msg.startsWith("stored status does not read"));
}

async function unreadableEvents(name: string): Promise<{ type?: string; message?: string }[]> {
  const list = await world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${name},reason=StatusUnreadable`,
  });
  return list.items;
}

test("a lower-case completion time on a Pending job is removed by the next status write, said once in the log and in an Event", async () => {
  await createJob(world, jobManifest("handtime", { clients: { count: 1 } }));
  const pending = await waitForJob(
    world,
    "handtime",
    (j) =>
      j.status?.phase === "Pending" &&
      (j.status.clients as { pod?: string }[] | undefined)?.[0]?.pod !== undefined,
    "Pending with its client pod",
  );
  // A Pending job has no completionTime, so a write that only sets fields would leave this one in place.
  const version = await patchStatus("handtime", { completionTime: "2026-11-28t05:00:00z" });
  const fixed = await waitForJob(
    world,
    "handtime",
    (j) => reads(j) && j.metadata!.resourceVersion !== version,
    "the status rewritten so that it reads",
  );
  assert.equal(fixed.status?.completionTime, undefined);
  assert.deepEqual(fixed.status, pending.status, "the fields that read are kept as they were");
  // Scraped too: /metrics reads the same job, and the log still says it once for that resourceVersion.
  assert.equal((await fetch(`http://127.0.0.1:${operator.httpPort}/metrics`)).status, 200);
  const logs = unreadableLogs("handtime");
  assert.equal(logs.length, 1, JSON.stringify(logs));
  assert.equal(logs[0]!.namespace, "default");
  assert.equal(logs[0]!.resourceVersion, version);
  assert.deepEqual(logs[0]!.issues, [{ path: "status.completionTime", message: "Invalid ISO datetime" }]);
  assert.match(logs[0]!.msg, /keeps the fields that read and writes the others again/);
  const events = await unreadableEvents("handtime");
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, "Warning");
  assert.match(events[0]!.message ?? "", /\(status\.completionTime: Invalid ISO datetime\)/);
});

test("a round past 2^53 on a training job goes back to the round its event stream says, with nothing else lost", async () => {
  await createJob(world, jobManifest("biground", { clients: { count: 1 }, training: { rounds: 3 } }));
  const token = jobToken("default", "biground");
  await ensureJobResources(nc, token);
  await publishEvent(nc, roundFinished(token, 1));
  const trained = await waitForJob(world, "biground", (j) => j.status?.round === 1, "round 1");
  const version = await patchStatus("biground", { round: 2 ** 53 });
  const fixed = await waitForJob(
    world,
    "biground",
    (j) => reads(j) && j.metadata!.resourceVersion !== version,
    "the status rewritten so that it reads",
  );
  // Conditions keep their transition times, metrics and bytes their values: only round was rebuilt.
  assert.deepEqual(fixed.status, trained.status);
  const logs = unreadableLogs("biground");
  assert.equal(logs.length, 1, JSON.stringify(logs));
  assert.deepEqual(
    logs[0]!.issues.map((i) => i.path),
    ["status.round"],
  );
  assert.equal((await unreadableEvents("biground")).length, 1);
});
