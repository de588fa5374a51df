// status.message (kubectl get -o wide's MESSAGE): why the job is not progressing, from the conditions
// the reconcile computed; unset for a job that trains with nothing holding it back.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Condition, Status } from "@sfprompt/api";
import { MAX_STATUS_MESSAGE, statusMessage } from "../../src/status/status-message.js";

const T = "2026-01-01T00:00:00Z";
const c = (type: string, status: Condition["status"], reason: string, message: string): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: T,
});

const created = c("Created", "True", "ChildrenApplied", "applied");
const serverUp = c("ServerReady", "True", "MinimumReplicasAvailable", "1 of 1 server replicas available");
const serverDown = c(
  "ServerReady",
  "False",
  "ServerNotAvailable",
  "no server replica is available yet: server pod s-1: ImagePullBackOff: Back-off pulling image",
);
const clientsUp = c("ClientsReady", "True", "AllClientsRunning", "2 client pods running");
const clientsDown = c(
  "ClientsReady",
  "False",
  "ClientsNotRunning",
  "1 of 2 client pods running; not running: 1; why: client 1: Unschedulable: 0/3 nodes are available",
);
const notFailed = c("Failed", "False", "NoFailure", "no failure so far");

const cases: {
  name: string;
  phase: Status["phase"];
  conditions: Condition[];
  message: string | undefined;
}[] = [
  {
    name: "a job that trains with every pod running: unset",
    phase: "Running",
    conditions: [created, serverUp, clientsUp, notFailed],
    message: undefined,
  },
  {
    name: "a pending job whose server does not run: ServerReady's reason and message",
    phase: "Pending",
    conditions: [created, serverDown, clientsDown, notFailed],
    message: `ServerNotAvailable: ${serverDown.message}`,
  },
  {
    name: "a running job with a client not running: ClientsReady's",
    phase: "Running",
    conditions: [created, serverUp, clientsDown],
    message: `ClientsNotRunning: ${clientsDown.message}`,
  },
  {
    name: "a child the API server refused comes first",
    phase: "Pending",
    conditions: [c("Created", "False", "QuotaExceeded", "pods is forbidden: exceeded quota"), serverDown],
    message: "QuotaExceeded: pods is forbidden: exceeded quota",
  },
  {
    name: "a held edit comes before the pods",
    phase: "Running",
    conditions: [
      created,
      c("SpecRejected", "True", "RoundsBelowCheckpoint", "rounds 2 is below the checkpoint's 3"),
      serverUp,
      clientsDown,
    ],
    message: "RoundsBelowCheckpoint: rounds 2 is below the checkpoint's 3",
  },
  {
    name: "a failed job: the Failed condition, not its scaled-down server",
    phase: "Failed",
    conditions: [
      c("ServerReady", "False", "ScaledDown", "the server is scaled to 0"),
      c("Failed", "True", "QuorumNotReached", "1 of 3 updates"),
    ],
    message: "QuorumNotReached: 1 of 3 updates",
  },
  {
    name: "a succeeded job: the Succeeded condition",
    phase: "Succeeded",
    conditions: [c("Succeeded", "True", "TrainingCompleted", "training finished after round 3")],
    message: "TrainingCompleted: training finished after round 3",
  },
  {
    name: "a suspended job: spec.suspend",
    phase: "Suspended",
    conditions: [c("ServerReady", "False", "ScaledDown", "the server is scaled to 0")],
    message: "Suspended: spec.suspend is true",
  },
];

for (const t of cases) {
  test(`statusMessage: ${t.name}`, () => {
    assert.equal(statusMessage(t.phase, t.conditions), t.message);
  });
}

test("statusMessage: a long condition message is cut to the column's bound", () => {
  const long = c("ClientsReady", "False", "ClientsNotRunning", "x".repeat(5000));
  const got = statusMessage("Pending", [created, serverUp, long])!;
  assert.equal(got.length, MAX_STATUS_MESSAGE);
  assert.ok(got.startsWith("ClientsNotRunning: xxx") && got.endsWith("…"));
});
