// The round history `sfprompt run` takes from a finished method's checkpoints, on a real nats-server:
// a corrupt newest checkpoint is passed over for the newest readable one, as a resuming server does
// (ADR 0035), and the user is told which one and why; with none readable it says so and goes on.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  checkpointSpec,
  paramSet,
  paramTensor,
  writeCheckpoint,
  type ParamSet,
  type RoundMetrics,
} from "@sfprompt/core";
import { checkpointObjectName, deleteJobResources, ensureJobResources } from "@sfprompt/protocol";
import { startLocalNats, type LocalNats } from "@sfprompt/protocol/testing";
import { readJobFile, runConfigFor } from "../src/run/job-file.js";
import { readRoundHistory } from "../src/run/round-history.js";
import { writeTinyJob } from "./run-helpers.js";

/** A round as the coordinator records it; the numbers differ per round so rounds cannot be mixed up. */
function roundOf(round: number): RoundMetrics {
  return {
    round,
    loss: 2 / round,
    accuracy: 0.1 * round,
    evalLoss: null,
    participants: ["client-0", "client-1"],
    selected: ["client-0", "client-1"],
    samples: 64,
    kept: 60 - round,
    bytes: { up: 1000 * round, down: 900 * round, byKind: { activation: 1000 * round } },
    clientFlops: 1e6 * round,
    durationMs: 100 * round,
  };
}

function paramsOf(value: number): ParamSet {
  return paramSet([
    ["prompt", paramTensor(new Float32Array(6).fill(value), [2, 3])],
    ["tail.weight", paramTensor(new Float32Array(4).fill(value), [2, 2])],
  ]);
}

describe("the round history of a finished method", () => {
  let dir = "";
  let nats: LocalNats;
  let nc: NatsConnection;
  let config: RunConfig;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cli-round-history-"));
    const job = readJobFile(writeTinyJob(dir, "{ rounds: 3 }"));
    config = runConfigFor(job, job.spec.method);
    nats = await startLocalNats({ storeDir: join(dir, "js") });
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc.drain();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The job's store with the checkpoints of rounds 1..n, as the server writes them. */
  async function storeWithCheckpoints(n: number): Promise<Awaited<ReturnType<typeof ensureJobResources>>> {
    await deleteJobResources(nc, config.names.job);
    const resources = await ensureJobResources(nc, config.names.job);
    const history: RoundMetrics[] = [];
    for (let round = 1; round <= n; round++) {
      history.push(roundOf(round));
      await writeCheckpoint(resources.artifacts, paramsOf(round), {
        job: config.names.job,
        method: config.method,
        round,
        history: [...history],
        spec: checkpointSpec(config),
      });
    }
    return resources;
  }

  /** Replaces a checkpoint with its own bytes cut short, as a store that lost its tail leaves it. */
  async function truncate(
    store: Awaited<ReturnType<typeof storeWithCheckpoints>>["artifacts"],
    round: number,
  ) {
    const name = checkpointObjectName(round);
    const bytes = await store.get(name);
    assert.ok(bytes !== null, `${name} was written`);
    await store.put(name, bytes.subarray(0, bytes.length - 7), "cut short");
  }

  it("comes from the newest readable checkpoint when the newest is corrupt, naming the one passed over and why", async () => {
    const { artifacts } = await storeWithCheckpoints(3);
    await truncate(artifacts, 3);
    const lines: string[] = [];
    const history = await readRoundHistory(artifacts, paramsOf(0), config, (l) => lines.push(l));
    assert.deepEqual(history.rounds, [roundOf(1), roundOf(2)], "the history the round-2 checkpoint holds");
    assert.equal(history.from, checkpointObjectName(2));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0] as string,
      new RegExp(
        `^checkpoint ${checkpointObjectName(3)} cannot be read \\(.+\\); the round history comes from ${checkpointObjectName(2)} \\(round 2\\)`,
      ),
    );
  });

  it("is the newest checkpoint's, with nothing to tell, when every checkpoint reads", async () => {
    const { artifacts } = await storeWithCheckpoints(3);
    const lines: string[] = [];
    const history = await readRoundHistory(artifacts, paramsOf(0), config, (l) => lines.push(l));
    assert.deepEqual(history.rounds, [1, 2, 3].map(roundOf));
    assert.deepEqual(lines, []);
  });

  it("is empty, and says so naming each checkpoint, when none can be read", async () => {
    const { artifacts } = await storeWithCheckpoints(2);
    await truncate(artifacts, 1);
    await truncate(artifacts, 2);
    const lines: string[] = [];
    const history = await readRoundHistory(artifacts, paramsOf(0), config, (l) => lines.push(l));
    assert.deepEqual(history.rounds, []);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0] as string, /^the round history cannot be read from the job's checkpoints/);
    for (const round of [1, 2]) assert.ok(lines[0]?.includes(checkpointObjectName(round)), lines[0]);
    assert.match(lines[0] as string, /metrics\.json keeps each round as its progress event reported it$/);
  });
});
