// What a stopped operator leaves running (ADR 0009 amendments 7 and 9): nothing. Once stop() has
// resolved, no request goes to the API server, no connection to NATS is tried, and no error is thrown
// or rejected by its loops, even when the API server is stopped next (as every file's after hook
// does). The API server here ends each watch after 1-2 s (--min-request-timeout=1), so ListWatch's
// own reconnects (at once, then after a 1, 2, 4 s pause) are under way when stop() comes: a stopped
// ListWatch used to watch again after its pause. And a file's teardown stops the world though a step
// before it failed (amendment 10).
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createServer } from "node:net";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jobToken } from "@sfprompt/api";
import { ensureJobResources, publishEvent } from "@sfprompt/protocol";
import { waitFor } from "@sfprompt/kube-testing";
import { Informers } from "../../src/kube/informers.js";
import { LEADER_POD_LABEL, LeaderPodLabel } from "../../src/leader/leader-pod-label.js";
import { createLogger } from "../../src/log.js";
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
import { createPod, release } from "./leader-pods.js";
import { roundFinished } from "./progress-events.js";

const SHORT_WATCHES = ["--min-request-timeout=1"];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sent {
  at: number;
  path: string;
}

/** The HTTP requests this process sends to the API server (undici's diagnostics channel), until stop. */
function apiRequests(world: World): { sent: Sent[]; stop: () => void } {
  const origin = new URL(world.cp.apiUrl).origin;
  const sent: Sent[] = [];
  const onCreate = (message: unknown): void => {
    const request = (message as { request: { origin: string | URL; path: string } }).request;
    if (new URL(String(request.origin)).origin === origin) sent.push({ at: Date.now(), path: request.path });
  };
  subscribe("undici:request:create", onCreate);
  return { sent, stop: () => unsubscribe("undici:request:create", onCreate) };
}

/** Errors nobody caught: thrown from a callback, or a rejection no one handled. */
function uncaught(): { errors: string[]; stop: () => void } {
  const errors: string[] = [];
  const onError = (err: unknown): void => {
    errors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  };
  process.on("unhandledRejection", onError);
  process.on("uncaughtExceptionMonitor", onError);
  return {
    errors,
    stop: () => {
      process.off("unhandledRejection", onError);
      process.off("uncaughtExceptionMonitor", onError);
    },
  };
}

const watches = (sent: Sent[]): number => sent.filter((s) => s.path.includes("watch=true")).length;

test("stopped informers open no watch, though a stopped ListWatch watches again by itself after its pause", async () => {
  const world = await startWorld({ apiServerArgs: SHORT_WATCHES });
  const requests = apiRequests(world);
  try {
    const informers = new Informers(
      world.cp.kubeConfig,
      { namespaces: ["default"], restartDelayMs: 200, log: createLogger({ level: "error" }) },
      () => {},
    );
    await informers.start();
    const caches = watches(requests.sent);
    // Each watch the server ends is opened again: twice more per cache, so that the later ones come
    // after a reconnect pause, which is where stop() finds most of them.
    await waitFor(() => watches(requests.sent) >= 3 * caches, {
      timeoutMs: 60_000,
      description: `the ${caches} watches ended by the server and opened again twice`,
    });
    await informers.stop();
    const stoppedAt = Date.now();
    // past the longest pause a reconnect can be in now (4 s: each ended watch doubles it from 1 s)
    await sleep(6000);
    const late = requests.sent.filter((s) => s.at >= stoppedAt);
    assert.deepEqual(late, [], "requests sent after stop() resolved");
  } finally {
    requests.stop();
    await world.stop();
  }
});

test("a stopped operator (leader election, leader pod label, jobs) sends nothing and throws nothing, also once the API server is gone", async () => {
  const world = await startWorld({ nats: true, apiServerArgs: SHORT_WATCHES });
  const requests = apiRequests(world);
  const errors = uncaught();
  let worldUp = true;
  try {
    await createPod(world.core, "op-quiet", release("quiet"));
    const operator = await runOperator(
      world,
      testConfig(world, (c) => {
        c.leaderElection = { ...c.leaderElection, enabled: true, name: "quiet", identity: "op-quiet" };
        c.leaderPod = {
          name: "op-quiet",
          namespace: "default",
          selector: "app.kubernetes.io/instance=quiet,app.kubernetes.io/component=operator",
        };
      }),
    );
    let stopped = false;
    try {
      await waitFor(() => operator.isLeader(), { timeoutMs: 30_000, description: "the operator to lead" });
      await createJob(world, jobManifest("quiet", { clients: { count: 1 } }));
      await waitFor(async () => (await podNames(world, "quiet")).length === 1, {
        timeoutMs: 30_000,
        description: "the job's client pod",
      });
      const before = watches(requests.sent);
      await waitFor(() => watches(requests.sent) >= before + 12, {
        timeoutMs: 60_000,
        description: "the informers' watches ended by the server and opened again",
      });
      await operator.stop();
      stopped = true;
    } finally {
      if (!stopped) await operator.stop();
    }
    const stoppedAt = Date.now();
    await sleep(6000);
    assert.deepEqual(
      requests.sent.filter((s) => s.at >= stoppedAt),
      [],
      "requests sent after stop() resolved",
    );
    await world.stop();
    worldUp = false;
    await sleep(1000);
    assert.deepEqual(
      errors.errors,
      [],
      "errors thrown or rejected and not caught, up to after the world stopped",
    );
  } finally {
    errors.stop();
    requests.stop();
    if (worldUp) await world.stop();
  }
});

test("an operator whose NATS went away stops, and its NATS connection does not try again after stop()", async () => {
  const world = await startWorld({ nats: true });
  const nats = world.nats!;
  try {
    const operator = await runOperator(world, testConfig(world));
    let stopped = false;
    try {
      // the operator follows the job's progress stream: its NATS pool holds a connection
      await createJob(world, jobManifest("away", { clients: { count: 1 }, training: { rounds: 4 } }));
      const nc = await connect({ servers: nats.url });
      try {
        const job = jobToken("default", "away");
        await ensureJobResources(nc, job);
        await publishEvent(nc, roundFinished(job, 1));
      } finally {
        await nc.close();
      }
      await waitFor(() => operator.manager()?.rounds("default", "away")?.rounds.length === 1, {
        timeoutMs: 30_000,
        description: "round 1 read from the job's progress stream",
      });
      await nats.stop();
      await operator.stop();
      stopped = true;
    } finally {
      if (!stopped) await operator.stop();
    }
    // NATS comes back on its port: a connection of the stopped operator's would reconnect to it
    let attempts = 0;
    const listener = createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(nats.port, "127.0.0.1", () => resolve());
    });
    try {
      // nats.js tries again every 2 s (with jitter)
      await sleep(6000);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
    assert.equal(attempts, 0, "connections to NATS's port after stop() resolved");
  } finally {
    await world.stop();
  }
});

test("a file's teardown stops the world though a step before it failed, and says what failed", async () => {
  const world = await startWorld();
  let stopped = false;
  try {
    await world.core.listNamespace(); // the API server answers
    await assert.rejects(
      stopInOrder(
        () => Promise.reject(new Error("the test's NATS connection could not drain")),
        async () => {
          await world.stop();
          stopped = true;
        },
      ),
      /the test's NATS connection could not drain/,
    );
    assert.equal(stopped, true, "the world's stop ran");
    await assert.rejects(world.core.listNamespace(), "the API server is gone");
  } finally {
    if (!stopped) await world.stop();
  }
});

test("the leader pod label stopped mid-pass, giving up its label's removal, sends nothing after stop() resolved", async () => {
  // stop(0) gives up the removal at once, while the first pass's list is under way: before, the pass
  // went on to label the pod and the removal was sent after it, both after stop() had resolved.
  const world = await startWorld();
  const requests = apiRequests(world);
  const errors = uncaught();
  try {
    await createPod(world.core, "op-late", release("late"));
    const label = new LeaderPodLabel(world.cp.kubeConfig, {
      name: "op-late",
      namespace: "default",
      selector: "app.kubernetes.io/instance=late,app.kubernetes.io/component=operator",
      retryMs: 100,
      maxRetryMs: 1000,
      resyncMs: 300_000,
      log: createLogger({ level: "error" }),
    });
    let stopping: Promise<void> | undefined;
    let stoppedAt = Infinity; // when stop() resolved
    const onCreate = (message: unknown): void => {
      const { path, method } = (message as { request: { path: string; method: string } }).request;
      // the pass's list of labelled pods (not the watch's): stop while its answer is on the way
      if (
        stopping === undefined &&
        method === "GET" &&
        path.includes("/pods?") &&
        !path.includes("watch=true")
      )
        stopping = label.stop(0).then(() => {
          stoppedAt = Date.now();
        });
    };
    subscribe("undici:request:create", onCreate);
    try {
      label.start();
      await waitFor(() => stopping !== undefined, {
        timeoutMs: 30_000,
        description: "the first pass's list",
      });
      await stopping;
    } finally {
      unsubscribe("undici:request:create", onCreate);
    }
    await sleep(3000);
    assert.deepEqual(
      requests.sent.filter((s) => s.at >= stoppedAt),
      [],
      "requests sent after stop() resolved",
    );
    const pod = await world.core.readNamespacedPod({ name: "op-late", namespace: "default" });
    assert.equal(pod.metadata?.labels?.[LEADER_POD_LABEL], undefined, "a stopped leader labels no pod");
    assert.deepEqual(errors.errors, [], "errors thrown or rejected and not caught");
  } finally {
    errors.stop();
    requests.stop();
    await world.stop();
  }
});
