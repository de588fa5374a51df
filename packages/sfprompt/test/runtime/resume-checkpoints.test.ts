// Which checkpoint a job resumes from, against a real nats-server's Object Store: a latest checkpoint
// that cannot be read (other bytes, cut short, chunks lost) is passed over for the newest readable
// one and reported; a checkpoint written under another method, split, prompt count, classes or more
// rounds than the job now has is refused, naming the field; older checkpoints without the spec load.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { checkpointObjectName, openArtifactStore, type ArtifactStore } from "@sfprompt/protocol";
import {
  CheckpointError,
  PartitionBundle,
  ResumeMismatchError,
  checkpointSpec,
  joinParams,
  paramsAllClose,
  readLatestCheckpoint,
  startServer,
  writeCheckpoint,
  type ParamSet,
} from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { jobConfig, natsAndBundleHooks } from "./job-fixture.js";
import { logsUntil } from "./job-runs.js";

const w = natsAndBundleHooks();
let jobs = 0;

function layout(): ParamSet {
  const b = PartitionBundle.load(w.bundle.dir);
  const init = b.initialParams();
  void b.release();
  return joinParams(init.prompt, init.tail);
}

/** The bundle's layout filled with values of `seed`, so that two checkpoints differ. */
function paramsOf(seed: number): ParamSet {
  return new Map(
    [...layout()].map(([n, t]) => [
      n,
      { data: Float32Array.from(t.data, (_, i) => Math.sin(seed * 7 + i)), shape: [...t.shape] },
    ]),
  );
}

/** Writes the checkpoints of `rounds` for `config` (spec: false writes them as older servers did). */
async function checkpoints(
  config: RunConfig,
  rounds: number[],
  o: { spec?: boolean } = {},
): Promise<ArtifactStore> {
  const store = await openArtifactStore(w.nats.nc, config.names.job);
  for (const round of rounds)
    await writeCheckpoint(store, paramsOf(round), {
      job: config.names.job,
      method: config.method,
      round,
      history: [],
      ...(o.spec === false ? {} : { spec: checkpointSpec(config) }),
    });
  return store;
}

/** Purges all but the first chunk of the object: its digest no longer matches. */
async function loseChunks(store: ArtifactStore, name: string): Promise<void> {
  const bytes = (await store.get(name))!;
  await store.store.put({ name, options: { max_chunk_size: 64 } }, new Blob([bytes]).stream());
  const info = (await store.store.info(name))!;
  assert.ok(info.chunks > 1);
  const jsm = await jetstreamManager(w.nats.nc);
  await jsm.streams.purge(`OBJ_${store.bucket}`, { filter: `$O.${store.bucket}.C.${info.nuid}`, keep: 1 });
}

const damages: [string, (store: ArtifactStore, name: string) => Promise<void>][] = [
  [
    "holds other bytes",
    async (s, n) => void (await s.put(n, new TextEncoder().encode("not a parameter set at all"))),
  ],
  [
    "was cut short",
    async (s, n) => {
      const bytes = (await s.get(n))!;
      await s.put(n, bytes.subarray(0, Math.floor(bytes.length / 2)));
    },
  ],
  ["lost chunks (its digest does not match)", loseChunks],
];

for (const [what, damage] of damages) {
  test(`a latest checkpoint that ${what} is passed over for the newest readable one, and reported`, async () => {
    const config = jobConfig({ training: { rounds: 5 } });
    const store = await checkpoints(config, [1, 2, 3]);
    await damage(store, checkpointObjectName(3));
    const point = await readLatestCheckpoint(store, layout(), config);
    assert.equal(point?.object, checkpointObjectName(2));
    assert.equal(point.meta.round, 2);
    assert.ok(paramsAllClose(point.params, paramsOf(2), { atol: 0, rtol: 0 }), "round 2's parameters");
    assert.deepEqual(
      point.skipped.map((s) => s.object),
      [checkpointObjectName(3)],
    );
  });
}

test("a job whose only checkpoint cannot be read is refused, naming it and saying how to start over", async () => {
  const config = jobConfig();
  const store = await checkpoints(config, [1]);
  await store.put(checkpointObjectName(1), new Uint8Array(40));
  await assert.rejects(readLatestCheckpoint(store, layout(), config), (e: unknown) => {
    assert.ok(e instanceof CheckpointError);
    assert.match(e.message, /round-000001.*output\.resume: false/);
    return true;
  });
});

test("a server resuming over a corrupt latest checkpoint logs a warning naming it and resumes from the one before", async () => {
  const config = jobConfig({ training: { rounds: 4 } });
  const store = await checkpoints(config, [1, 2]);
  await store.put(checkpointObjectName(2), new TextEncoder().encode("garbage"));
  const { logs, logger, seen } = logsUntil("resumed");
  const server = await startServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, logger, pollWaitMs: 200 });
  try {
    await Promise.race([seen, server.done]);
    const skipped = logs.find((l) => l.event === "checkpoint-skipped");
    assert.equal(skipped?.level, "warn");
    assert.equal(skipped.checkpoint, checkpointObjectName(2));
    assert.equal(skipped.resumingFrom, checkpointObjectName(1));
    const line = logs.find((l) => l.event === "resumed");
    assert.equal(line?.round, 1);
    assert.deepEqual(line.skipped, [checkpointObjectName(2)]);
  } finally {
    await server.stop();
  }
});

type Change = [string, string, Record<string, unknown>];
const refused: Change[] = [
  ["the method", "spec.method", { method: "sfl-prompt" }],
  ["the model split", "spec.model.split", { model: { split: { pooling: "mean" } } }],
  ["the prompt count", "spec.prompts.length", { prompts: { length: 6 } }],
  ["the class count", "spec.classes.numClasses", { classes: { numClasses: 7 } }],
  [
    "the class labels",
    "spec.classes.labels",
    { classes: { labels: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] } },
  ],
  ["fewer rounds than the checkpoint's", "spec.training.rounds", { training: { rounds: 2 } }],
];

for (const [what, field, change] of refused) {
  test(`resuming after a change of ${what} is refused, naming ${field} and what to do`, async () => {
    const name = `resume-${process.pid}-${++jobs}`;
    const store = await checkpoints(jobConfig({ training: { rounds: 5 } }, name), [3]);
    const changed = jobConfig({ training: { rounds: 5 }, ...change }, name);
    await assert.rejects(readLatestCheckpoint(store, layout(), changed), (e: unknown) => {
      assert.ok(e instanceof ResumeMismatchError, String(e));
      assert.equal(e.field, field);
      assert.match(e.message, new RegExp(`${field.replaceAll(".", "\\.")}.*(new name|new job name)`));
      assert.match(e.message, /output\.resume: false/);
      return true;
    });
  });
}

const accepted: [string, Record<string, unknown>, { spec?: boolean }][] = [
  ["more rounds", { training: { rounds: 9 } }, {}],
  ["fewer rounds that still cover the checkpoint's", { training: { rounds: 3 } }, {}],
  ["another learning rate", { training: { rounds: 5, optimizer: { name: "adam", learningRate: 0.5 } } }, {}],
  ["a checkpoint of an older server, without the spec", { prompts: { length: 4 } }, { spec: false }],
];

for (const [what, change, o] of accepted) {
  test(`resuming with ${what} goes on from the checkpoint`, async () => {
    const name = `resume-${process.pid}-${++jobs}`;
    const store = await checkpoints(jobConfig({ training: { rounds: 5 } }, name), [3], o);
    const point = await readLatestCheckpoint(
      store,
      layout(),
      jobConfig({ training: { rounds: 5 }, ...change }, name),
    );
    assert.equal(point?.meta.round, 3);
    assert.ok(paramsAllClose(point.params, paramsOf(3), { atol: 0, rtol: 0 }));
  });
}

test("a server whose job changed method since its checkpoint fails the job with the field in job.failed", async () => {
  const name = `resume-${process.pid}-${++jobs}`;
  await checkpoints(jobConfig({ training: { rounds: 5 } }, name), [2]);
  const events: { type: string; reason?: string; message?: string }[] = [];
  const server = await startServer(jobConfig({ method: "sfl-prompt", training: { rounds: 5 } }, name), {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    onEvent: (e) => events.push(e),
    lingerMs: 0,
  });
  await assert.rejects(server.done, { name: "ResumeMismatchError" });
  const failed = events.find((e) => e.type === "job.failed");
  assert.equal(failed?.reason, "ResumeMismatchError");
  assert.match(failed.message ?? "", /spec\.method "sfprompt", the job now has "sfl-prompt"/);
});
