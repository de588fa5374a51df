// Tables for why a pod does not run (pod-reason.ts): each kubelet/scheduler state a stuck pod shows, the
// server pod that speaks for the Deployment, the clients' reasons grouped and bounded, and a text that
// stays the same while only a restart loop's back-off delay moves (no status write per reconcile).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1ContainerStatus, V1Pod, V1Volume } from "@kubernetes/client-node";
import {
  clientsWhyText,
  MAX_POD_REASON,
  podReason,
  serverLoopRecheckMs,
  serverPodsText,
} from "../../src/status/pod-reason.js";

interface PodOptions {
  name?: string;
  phase?: string;
  container?: Partial<V1ContainerStatus>;
  volumes?: V1Volume[];
  node?: string;
  created?: string;
  deleting?: boolean;
  conditions?: NonNullable<V1Pod["status"]>["conditions"];
  reason?: { reason: string; message: string };
  restartPolicy?: string;
}

function pod(o: PodOptions = {}): V1Pod {
  return {
    metadata: {
      name: o.name ?? "demo-server-6f7d9-x8k2p",
      creationTimestamp: new Date(o.created ?? "2026-01-01T00:00:00Z"),
      ...(o.deleting ? { deletionTimestamp: new Date("2026-01-01T00:05:00Z") } : {}),
    },
    spec: {
      containers: [],
      ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
      ...(o.volumes ? { volumes: o.volumes } : {}),
      ...(o.node ? { nodeName: o.node } : {}),
    },
    status: {
      phase: o.phase ?? "Pending",
      ...(o.container
        ? {
            containerStatuses: [
              { name: "c", image: "i", imageID: "", ready: false, restartCount: 0, ...o.container },
            ],
          }
        : {}),
      ...(o.conditions ? { conditions: o.conditions } : {}),
      ...(o.reason ?? {}),
    },
  };
}

const waitingPod = (reason: string, message?: string, extra: PodOptions = {}): V1Pod =>
  pod({ ...extra, container: { state: { waiting: { reason, ...(message ? { message } : {}) } } } });

const loop = (backoff: string): V1Pod =>
  pod({
    phase: "Running",
    container: {
      restartCount: 3,
      state: {
        waiting: {
          reason: "CrashLoopBackOff",
          message: `back-off ${backoff} restarting failed container=c pod=p`,
        },
      },
      lastState: { terminated: { exitCode: 3, reason: "Error", message: "config.invalid: spec.model" } },
    },
  });

const reasonCases: { name: string; pod: V1Pod | undefined; reason: string | undefined }[] = [
  { name: "no pod: nothing to say", pod: undefined, reason: undefined },
  {
    name: "a pod that runs normally: nothing to say",
    pod: pod({ phase: "Running", container: { ready: true, state: { running: {} } } }),
    reason: undefined,
  },
  {
    name: "an image that does not pull: the kubelet's reason and message",
    pod: waitingPod("ImagePullBackOff", 'Back-off pulling image "reg/x:1"'),
    reason: 'ImagePullBackOff: Back-off pulling image "reg/x:1"',
  },
  {
    name: "a missing Secret: CreateContainerConfigError with its message",
    pod: waitingPod("CreateContainerConfigError", 'secret "hf" not found'),
    reason: 'CreateContainerConfigError: secret "hf" not found',
  },
  {
    name: "a restart loop: the last exit's reason, code and message instead of the back-off delay",
    pod: loop("40s"),
    reason:
      "CrashLoopBackOff: the container keeps exiting; last exit: Error (exit code 3): config.invalid: spec.model",
  },
  {
    name: "a restart loop with no last state: the kubelet's message",
    pod: waitingPod("CrashLoopBackOff", "back-off 10s"),
    reason: "CrashLoopBackOff: the container keeps exiting (back-off 10s)",
  },
  {
    name: "ContainerCreating with the job's data mounted from the node: the field, path, type and node",
    pod: waitingPod("ContainerCreating", undefined, {
      name: "j-client-0",
      node: "edge-a",
      volumes: [
        { name: "run-config", configMap: { name: "j-config" } },
        { name: "data", hostPath: { path: "/srv/train.jsonl", type: "File" } },
      ],
    }),
    reason:
      "ContainerCreating: it mounts spec.data.source /srv/train.jsonl (File) from node edge-a; if that path is not there it stays in ContainerCreating (a FailedMount event: kubectl describe pod j-client-0)",
  },
  {
    name: "ContainerCreating with no data from the node: the reason alone",
    pod: waitingPod("ContainerCreating", undefined, {
      volumes: [{ name: "model", hostPath: { path: "/m" } }],
    }),
    reason: "ContainerCreating",
  },
  {
    name: "not scheduled: the scheduler's reason and message",
    pod: pod({
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/2 nodes are available",
        },
      ],
    }),
    reason: "Unschedulable: 0/2 nodes are available",
  },
  {
    name: "evicted: the pod's own reason and message",
    pod: pod({ phase: "Failed", reason: { reason: "Evicted", message: "low on ephemeral-storage" } }),
    reason: "Evicted: low on ephemeral-storage",
  },
  {
    name: "a container that ended: its reason, exit code and message",
    pod: pod({
      phase: "Failed",
      container: { state: { terminated: { exitCode: 137, reason: "OOMKilled" } } },
    }),
    reason: "OOMKilled (exit code 137)",
  },
];

for (const c of reasonCases) {
  test(`podReason: ${c.name}`, () => {
    assert.equal(podReason(c.pod), c.reason);
  });
}

test("podReason: a restart loop's text does not move with its back-off delay", () => {
  assert.equal(podReason(loop("10s")), podReason(loop("5m0s")));
});

const EXIT = { exitCode: 3, reason: "Error", message: "config.invalid: spec.model" };
const RESTARTED =
  "the container exited and is restarted in place (CrashLoopBackOff between tries; kubectl logs --previous " +
  "shows the run before); last exit: Error (exit code 3): config.invalid: spec.model";

/** A Deployment's pod (restartPolicy Always) whose container is in `state`, restarted `n` times. */
const restarting = (n: number, state: V1ContainerStatus["state"], lastExit = n > 0): V1Pod =>
  pod({
    phase: "Running",
    restartPolicy: "Always",
    container: { restartCount: n, state, ...(lastExit ? { lastState: { terminated: EXIT } } : {}) },
  });

const restartCases: { name: string; pod: V1Pod; reason: string | undefined }[] = [
  {
    name: "its first start, not ready yet: nothing to say",
    pod: restarting(0, { running: {} }),
    reason: undefined,
  },
  { name: "its first exit", pod: restarting(0, { terminated: EXIT }), reason: RESTARTED },
  {
    name: "waiting out the back-off",
    pod: restarting(1, { waiting: { reason: "CrashLoopBackOff", message: "back-off 10s restarting" } }),
    reason: RESTARTED,
  },
  { name: "started again, not ready", pod: restarting(1, { running: {} }), reason: RESTARTED },
  { name: "its second exit", pod: restarting(1, { terminated: EXIT }), reason: RESTARTED },
  {
    name: "being created again",
    pod: restarting(4, { waiting: { reason: "ContainerCreating" } }),
    reason: RESTARTED,
  },
  {
    name: "an image that no longer pulls speaks for itself",
    pod: restarting(2, { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image" } }),
    reason: "ImagePullBackOff: Back-off pulling image",
  },
  {
    name: "ready again after a restart: nothing to say",
    pod: pod({
      phase: "Running",
      restartPolicy: "Always",
      container: { ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: EXIT } },
    }),
    reason: undefined,
  },
  {
    name: "a client pod (restartPolicy Never) that ended: its exit as before",
    pod: pod({ phase: "Failed", restartPolicy: "Never", container: { state: { terminated: EXIT } } }),
    reason: "Error (exit code 3): config.invalid: spec.model",
  },
];

for (const c of restartCases) {
  test(`podReason, a container restarted in place: ${c.name}`, () => {
    assert.equal(podReason(c.pod), c.reason);
  });
}

const NOW = new Date("2026-01-01T12:00:00Z");
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const MINUTE = 60_000;

/** A restarted container running since `startedAt` (or, without one, last exited at `exitedAt`). */
const runningSince = (startedAt: Date | undefined, exitedAt?: Date): V1Pod =>
  pod({
    name: "s",
    phase: "Running",
    restartPolicy: "Always",
    container: {
      restartCount: 1,
      state: { running: startedAt ? { startedAt } : {} },
      lastState: { terminated: { ...EXIT, ...(exitedAt ? { finishedAt: exitedAt } : {}) } },
    },
  });

const NOT_READY = "server pod s runs but is not ready yet (kubectl logs s)";

const ageCases: { name: string; pod: V1Pod; reason: string | undefined; recheckMs: number | undefined }[] = [
  {
    name: "running for 3 hours since its last restart: no loop (the kubelet reset its back-off)",
    pod: runningSince(ago(180 * MINUTE)),
    reason: undefined,
    recheckMs: undefined,
  },
  {
    name: "running for exactly 10 minutes: no loop",
    pod: runningSince(ago(10 * MINUTE)),
    reason: undefined,
    recheckMs: undefined,
  },
  {
    name: "running for 9 minutes: still a loop, for one more minute",
    pod: runningSince(ago(9 * MINUTE)),
    reason: RESTARTED,
    recheckMs: MINUTE,
  },
  {
    name: "no start time, its last exit 3 hours ago: no loop",
    pod: runningSince(undefined, ago(180 * MINUTE)),
    reason: undefined,
    recheckMs: undefined,
  },
  {
    name: "no time at all: a loop, as without a clock",
    pod: runningSince(undefined),
    reason: RESTARTED,
    recheckMs: undefined,
  },
  {
    name: "exited again 3 hours after its last restart: its exit (a new try)",
    pod: restarting(1, { terminated: { ...EXIT, startedAt: ago(180 * MINUTE), finishedAt: NOW } }),
    reason: RESTARTED,
    recheckMs: undefined,
  },
];

for (const c of ageCases) {
  test(`podReason at a time, a container restarted in place: ${c.name}`, () => {
    assert.equal(podReason(c.pod, NOW), c.reason);
    const name = c.pod.metadata!.name!;
    assert.equal(
      serverPodsText([c.pod], NOW),
      c.reason === undefined ? NOT_READY : `server pod ${name}: ${c.reason}`,
    );
    assert.equal(serverLoopRecheckMs([c.pod], NOW), c.recheckMs);
  });
}

test("podReason without a time: a restart long ago still reads as a loop (the clients' pods, restartPolicy Never, never do)", () => {
  assert.equal(podReason(runningSince(ago(180 * MINUTE))), RESTARTED);
});

test("podReason: a kubelet message of any length is cut to the entry's bound", () => {
  const long = "x".repeat(5000);
  const got = podReason(waitingPod("ErrImagePull", long))!;
  assert.equal(got.length, MAX_POD_REASON);
  assert.ok(got.startsWith("ErrImagePull: xxx") && got.endsWith("…"));
});

const serverCases: { name: string; pods: V1Pod[]; text: string }[] = [
  {
    name: "no pod: says none exists and where to look",
    pods: [],
    text: "no server pod exists yet (kubectl describe deployment shows why)",
  },
  {
    name: "the newest pod speaks; one being deleted does not",
    pods: [
      waitingPod("ImagePullBackOff", "old image", { name: "s-old", created: "2026-01-01T00:00:00Z" }),
      waitingPod("ErrImagePull", "new image", { name: "s-new", created: "2026-01-01T00:01:00Z" }),
      waitingPod("ContainerCreating", undefined, {
        name: "s-gone",
        created: "2026-01-01T00:02:00Z",
        deleting: true,
      }),
    ],
    text: "server pod s-new: ErrImagePull: new image",
  },
  {
    name: "a running pod not ready yet: says so and where its logs are",
    pods: [pod({ name: "s", phase: "Running", container: { state: { running: {} } } })],
    text: "server pod s runs but is not ready yet (kubectl logs s)",
  },
  {
    name: "a pending pod with nothing reported yet: its phase",
    pods: [pod({ name: "s" })],
    text: "server pod s is Pending",
  },
];

for (const c of serverCases) {
  test(`serverPodsText: ${c.name}`, () => {
    assert.equal(serverPodsText(c.pods), c.text);
  });
}

test("clientsWhyText: clients with the same reason are named together; clients without one are left out", () => {
  assert.equal(
    clientsWhyText([
      { index: 0, reason: "ImagePullBackOff: x" },
      { index: 1 },
      { index: 2, reason: "ImagePullBackOff: x" },
      { index: 3, reason: "Unschedulable: y" },
    ]),
    "clients 0, 2: ImagePullBackOff: x; client 3: Unschedulable: y",
  );
  assert.equal(clientsWhyText([{ index: 0 }]), "");
});

test("clientsWhyText: at most four reasons, each cut to 300 characters, the rest counted", () => {
  const entries = Array.from({ length: 7 }, (_, i) => ({ index: i, reason: `R${i}: ${"m".repeat(400)}` }));
  const text = clientsWhyText(entries);
  const parts = text.split("; ");
  assert.equal(parts.length, 5);
  assert.equal(parts[4], "3 more reasons in status.clients[].reason");
  for (const p of parts.slice(0, 4)) assert.ok(p.length <= "client 0: ".length + 300, p);
});
