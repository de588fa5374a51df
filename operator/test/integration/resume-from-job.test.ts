// A job that goes on from another job's checkpoint (spec.output.resumeFrom, ADR 0044), across the real
// parts: the operator (real kube-apiserver + etcd) renders each job's run config, and the job's server
// and clients, run in this process from that config against a real nats-server, train, checkpoint and
// report; the status the operator writes is what is checked. B's status shows A's round, its loss and
// accuracy, and names A as soon as B's server resumed, before B's first round finishes (ADR 0046), goes on from there and
// counts only B's own bytes (no jump when it finishes, ADR 0044 amendment 2); A's bucket and status
// are left as they were; a source without a checkpoint fails the job naming the field.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { RunConfigSchema, jobToken, type RunConfig, type Status } from "@sfprompt/api";
import { kubectl } from "@sfprompt/kube-testing";
import { checkpointObjectName, openArtifactStore, type ProgressEvent } from "@sfprompt/protocol";
import { tinyBundle, type BundleFixture } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { startClients, startTestServer } from "../../../packages/sfprompt/test/runtime/job-fixture.js";
import { bucketContents } from "../../../packages/sfprompt/test/runtime/job-runs.js";
import { RUN_CONFIG_KEY } from "../../src/desired/settings.js";
import { childNames } from "../../src/names.js";
import { jobManifest, type SpecInput } from "../fixtures.js";
import { condition, createJob, getJob, operatorWorldHooks, waitForJob, type JobObject } from "./harness.js";

const w = operatorWorldHooks();
let bundle: BundleFixture;
before(() => void (bundle = tinyBundle()));
after(() => bundle?.remove());

const statusOf = (j: JobObject | undefined): Status => (j?.status ?? {}) as unknown as Status;

/** A tiny job (3 clients on the tiny bundle, batch 16, 20 evaluation samples); `output` as given. */
function spec(rounds: number, output: SpecInput["output"] = {}): SpecInput {
  return {
    prompts: { length: 4 },
    clients: { count: 3, perRound: { count: 3 } },
    data: { source: { builtin: "fashion-mnist" }, partitioning: { strategy: "iid", seed: 1 } },
    training: {
      rounds,
      batchSize: 16,
      seed: 5,
      optimizer: { name: "adam", learningRate: 0.01 },
      quorum: { count: 2 },
      roundTimeoutSeconds: 60,
      evaluation: { maxSamples: 20 },
    },
    transport: { requestTimeoutSeconds: 10 },
    server: { executionProvider: "cpu" },
    output,
  };
}

/** Creates the job and returns the run config the operator rendered into its ConfigMap. */
async function created(name: string, s: SpecInput): Promise<RunConfig> {
  await createJob(w.world, jobManifest(name, s));
  await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
  const cm = await w.world.core.readNamespacedConfigMap({
    name: childNames(name).configMap,
    namespace: "default",
  });
  return RunConfigSchema.parse(JSON.parse(cm.data![RUN_CONFIG_KEY]!));
}

/**
 * Runs the job's server and clients from `config` to the server's end: its outcome and its events.
 * `beforeClients`: the server starts first and the clients only once it resolved (no round can
 * finish before), else the clients start first.
 */
async function runDataPlane(
  config: RunConfig,
  withClients = true,
  beforeClients?: () => Promise<void>,
): Promise<{ error?: unknown; events: ProgressEvent[] }> {
  const stop = new AbortController();
  const startAll = (): ReturnType<typeof startClients> =>
    startClients(config, {
      connect: () => connect({ servers: w.world.nats!.url }),
      bundle: bundle.dir,
      signal: stop.signal,
    });
  let clients = withClients && beforeClients === undefined ? await startAll() : [];
  const events: ProgressEvent[] = [];
  const server = await startTestServer(config, {
    nc: w.nc,
    bundle: bundle.dir,
    lingerMs: withClients ? 300 : 0,
    onEvent: (e) => events.push(e),
  });
  try {
    if (beforeClients !== undefined) {
      const ended = server.done.then(
        () => undefined,
        () => undefined,
      );
      // a server left waiting for clients would outlive a failed check
      await Promise.race([beforeClients(), ended]).catch(async (err: unknown) => {
        await server.stop();
        throw err;
      });
      if (withClients) clients = await startAll();
    }
    const error = await server.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    return { ...(error === undefined ? {} : { error }), events };
  } finally {
    stop.abort();
    await Promise.all(clients.map((c) => c.done));
    await Promise.all(clients.map((c) => c.nc.close()));
  }
}

/** Up + down bytes of the round.finished events. */
function roundBytes(events: readonly ProgressEvent[]): { up: number; down: number } {
  let [up, down] = [0, 0];
  for (const e of events)
    if (e.type === "round.finished") {
      up += e.bytes.up;
      down += e.bytes.down;
    }
  return { up, down };
}

/** Every status of `name` written while `work` runs (polled), and `work`'s result. */
async function watchStatus<T>(name: string, work: Promise<T>): Promise<{ seen: Status[]; result: T }> {
  const seen: Status[] = [];
  let done = false;
  const polling = (async () => {
    while (!done) {
      seen.push(statusOf(await getJob(w.world, name)));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return { seen, result: await work };
  } finally {
    done = true;
    await polling;
  }
}

test("job B with resumeFrom A: its status shows A's checkpointed round 2 (A named, its loss and accuracy, no bytes) before its round 3 finishes, goes on to 4/4, counts only its own rounds' bytes (no jump at the end), Succeeded; A's bucket and status are untouched", async () => {
  const [a, b] = ["source-a", "next-b"];
  const configA = await created(a, spec(2));
  const ranA = await runDataPlane(configA);
  assert.equal(ranA.error, undefined, String(ranA.error));
  const doneA = await waitForJob(w.world, a, (j) => j.status?.phase === "Succeeded", `${a} Succeeded`);
  const statusA = statusOf(doneA);
  assert.equal(statusA.lastCheckpoint?.round, 2, "A checkpointed round 2");
  const storeA = await openArtifactStore(w.nc, jobToken("default", a));
  const bucketA = await bucketContents(storeA);

  const configB = await created(b, spec(4, { resumeFrom: { job: a } }));
  assert.deepEqual(configB.output.resumeFrom, {
    job: a,
    token: jobToken("default", a),
    bucket: storeA.bucket,
  });
  // before any client runs (so before B's round 3 can finish), B's status shows A's round 2 and
  // names A, with no bytes of its own (run.resumed, ADR 0046)
  let early: Status | undefined;
  const shownResumed = async (): Promise<void> => {
    const j = await waitForJob(w.world, b, (x) => statusOf(x).round === 2, `${b} at A's round 2`);
    early = statusOf(j);
  };
  const { seen, result: ranB } = await watchStatus(b, runDataPlane(configB, true, shownResumed));
  assert.ok(early !== undefined, "B's status showed round 2 before its clients started");
  assert.deepEqual(
    [early.round, early.progress, early.resumedFrom, early.communication, early.lastCheckpoint],
    [2, "2/4", { job: a, round: 2 }, undefined, undefined],
    "A's round, A named, none of B's bytes, no checkpoint of B's",
  );
  assert.equal(ranB.error, undefined, String(ranB.error));
  // and A's round-2 loss and accuracy, as B's server announced them (ADR 0046, amendment 4)
  const announced = ranB.events.find((e) => e.type === "run.resumed");
  assert.ok(announced?.type === "run.resumed" && announced.loss !== undefined, "run.resumed has A's loss");
  assert.deepEqual(early.metrics, { loss: announced.loss, accuracy: announced.accuracy });
  const doneB = await waitForJob(w.world, b, (j) => j.status?.phase === "Succeeded", `${b} Succeeded`);
  const s = statusOf(doneB);

  // B trained rounds 3 and 4 only, and its status says so
  assert.deepEqual(
    ranB.events.filter((e) => e.type === "round.finished").map((e) => e.round),
    [3, 4],
  );
  assert.deepEqual([s.round, s.rounds, s.progress, s.lastCheckpoint?.round], [4, 4, "4/4", 4]);
  assert.equal(condition(doneB, "Succeeded")?.reason, "TrainingCompleted");
  assert.ok(
    s.metrics?.bestRound !== undefined && s.metrics.bestRound >= 3,
    `best round ${s.metrics?.bestRound} is one of B's own`,
  );
  assert.deepEqual(s.resumedFrom, { job: a, round: 2 }, "A is still named once B finished");
  const rounds = seen.map((x) => x.round).filter((r): r is number => r !== undefined && r !== 0);
  assert.ok(rounds.length > 0, "B's status was seen with rounds while it ran");
  assert.ok(
    rounds.every((r, i) => r >= 2 && r >= (rounds[i - 1] ?? 0)),
    `B's status rounds go on from A's round 2 and never back: ${rounds.join(",")}`,
  );
  const firstOwn = seen.findIndex((x) => (x.round ?? 0) >= 3);
  assert.ok(
    seen.slice(0, firstOwn).some((x) => x.round === 2),
    `round 2 was shown before round 3: ${rounds.join(",")}`,
  );

  // bytes: B's own rounds, the same while it ran and once finished; none of A's
  const own = roundBytes(ranB.events);
  const finished = ranB.events.find((e) => e.type === "job.finished");
  assert.ok(finished?.type === "job.finished");
  assert.deepEqual([finished.bytes.up, finished.bytes.down], [own.up, own.down], "job.finished: B's rounds");
  assert.deepEqual([s.communication?.up, s.communication?.down], [own.up, own.down]);
  const totals = seen.map((x) => x.communication?.total).filter((t): t is number => t !== undefined);
  assert.ok(
    totals.every((t) => t <= own.up + own.down),
    `no total above B's own ${own.up + own.down}: ${totals.join(",")}`,
  );
  assert.ok((statusA.communication?.total ?? 0) > 0, "A's rounds sent bytes");

  // B wrote its own bucket; A's bucket and status are as A left them
  const storeB = await openArtifactStore(w.nc, jobToken("default", b));
  const namesB = await storeB.checkpointNames();
  assert.ok(namesB.includes(checkpointObjectName(4)), namesB.join(","));
  assert.ok(
    namesB.every((n) => [3, 4].some((r) => n === checkpointObjectName(r))),
    `only B's rounds: ${namesB.join(",")}`,
  );
  assert.deepEqual(await bucketContents(storeA), bucketA, "A's bucket is only read");
  const laterA = statusOf(await getJob(w.world, a));
  assert.deepEqual(
    [laterA.phase, laterA.round, laterA.communication, laterA.lastCheckpoint],
    [statusA.phase, statusA.round, statusA.communication, statusA.lastCheckpoint],
  );

  // kubectl get: the printer columns show B's rounds and bytes
  const got = await kubectl(["get", "sfpromptjob", b, "--no-headers"], w.world.cp.kubeconfigPath);
  const columns = got.stdout.trim().split(/\s{2,}/);
  assert.deepEqual(
    [columns[0], columns[1], columns[2], columns[4]],
    [b, "Succeeded", "4/4", s.communication!.totalHuman],
    got.stdout,
  );
});

test("resumeFrom a job that never checkpointed: Failed, ResumeSourceError naming spec.output.resumeFrom.job; the advice does not name this job, which has no checkpoint either", async () => {
  const [source, name] = ["never-ran", "orphan"];
  await createJob(w.world, jobManifest(source, spec(2, {})));
  const config = await created(name, spec(2, { resumeFrom: { job: source } }));
  const ran = await runDataPlane(config, false);
  assert.equal((ran.error as Error | undefined)?.name, "ResumeSourceError", String(ran.error));
  const failed = await waitForJob(w.world, name, (j) => j.status?.phase === "Failed", `${name} Failed`);
  const cond = condition(failed, "Failed")!;
  assert.equal(cond.reason, "ResumeSourceError");
  assert.match(cond.message, new RegExp(`^spec\\.output\\.resumeFrom\\.job ${source}: `));
  assert.match(cond.message, /stays Failed and ignores spec edits/);
  assert.doesNotMatch(cond.message, /naming this job to go on from its last checkpoint/);
  assert.match(cond.message, /this job reported no checkpoint \(status\.lastCheckpoint is unset\)/);
  assert.equal(statusOf(failed).lastCheckpoint, undefined);
  const events = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${name},reason=ResumeSourceError`,
  });
  assert.equal(events.items[0]?.type, "Warning");
});
