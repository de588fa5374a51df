// Runs a job's server and clients in this process over a real nats-server and compares the server's
// byte ledger with the traffic plan per round, kind and direction. Two differences are allowed, each
// checked exactly: "wait" polls (timing decides how many) and the digits of the upload's loss and
// FLOPs numbers (UPLOAD_META_PLACEHOLDERS).
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import type { Model } from "@sfprompt/engine";
import { FRAME_KINDS, type TrafficSnapshot } from "@sfprompt/protocol";
import {
  ExchangeSizer,
  PartitionBundle,
  datasetSize,
  emptyByKind,
  partitionForJob,
  planMethodTraffic,
  pollExchange,
  prepareWholeModel,
  roundExchanges,
  runClient,
  runServer,
  textBundleConfig,
  wholeModelGlobal,
  wholeModelTrainer,
  type ClientResult,
  type Dataset,
  type TrafficByKind,
  type TrafficShapes,
} from "@sfprompt/core";

/** Bytes one upload message may differ by: loss, localLoss and FLOPs as JSON numbers of other lengths. */
const UPLOAD_META_SLACK = 12;

export interface TrafficRun {
  readonly traffic: TrafficSnapshot;
  readonly samples: number[];
  readonly badFrames: object;
}

export interface TrafficJob {
  readonly nc: NatsConnection;
  /** The prepared bundle's directory. */
  readonly bundle: string;
  /** The source model (fl-full trains all of its weights). */
  readonly model: Model;
  /** All training data; partitioned among the clients as the job says. */
  readonly train: Dataset;
}

/** Runs the job's server and clients in this process (as runLocalJob does) and returns the server's ledger. */
export async function runTrafficJob(c: RunConfig, o: TrafficJob): Promise<TrafficRun> {
  const shards = partitionForJob(o.train, c.data.partitioning, c.clients.count);
  // a text job's bundle is opened at its sequence length, as every process of the job opens it
  const probe = PartitionBundle.load(o.bundle, textBundleConfig(c));
  const whole =
    c.method === "fl-full" ? prepareWholeModel(o.model, probe.manifest, probe.symbolicDims()) : undefined;
  const clients: Promise<ClientResult>[] = shards.map((data, i) =>
    runClient(c, i, {
      nc: o.nc,
      bundle: o.bundle,
      data,
      ...(whole ? { trainer: wholeModelTrainer(whole) } : {}),
    }),
  );
  const globalModel = whole ? await wholeModelGlobal(whole, probe) : undefined;
  try {
    const server = await runServer(c, {
      nc: o.nc,
      bundle: probe,
      pollWaitMs: 500,
      lingerMs: 500,
      ...(globalModel ? { globalModel } : {}),
    });
    await Promise.all(clients);
    return { traffic: server.traffic, samples: shards.map(datasetSize), badFrames: server.badFrames };
  } finally {
    await globalModel?.release();
    await probe.release();
  }
}

/** The server's ledger as per-round traffic (up = what the server received). */
export function measuredByRound(snapshot: TrafficSnapshot): Map<number, TrafficByKind> {
  const out = new Map<number, TrafficByKind>();
  for (const e of snapshot.entries) {
    assert.notEqual(e.kind, "invalid", "no message the server could not read");
    if (e.kind === "invalid") continue;
    const t = out.get(e.round) ?? emptyByKind();
    out.set(e.round, t);
    const k = t[e.kind];
    if (e.direction === "received") {
      k.up += e.bytes;
      k.upMessages += e.messages;
    } else {
      k.down += e.bytes;
      k.downMessages += e.messages;
    }
  }
  return out;
}

/** The bytes of one "wait" poll: its request, its reply without the attempt, the attempt's share. */
interface WaitPoll {
  up: number;
  downBare: number;
  attemptBytes: number;
}

/** Compares one round (or the after-last-round polls) kind by kind; returns the wait polls found. */
function compareRound(
  c: RunConfig,
  label: string,
  planned: TrafficByKind,
  got: TrafficByKind,
  waitPoll: WaitPoll,
): number {
  for (const kind of FRAME_KINDS) {
    const p = planned[kind];
    const m = got[kind];
    const where = `${c.method} ${label} ${kind}`;
    if (kind === "control") {
      const waits = m.upMessages - p.upMessages;
      assert.ok(
        waits >= 0,
        `${where}: ${m.upMessages} control requests, fewer than the ${p.upMessages} planned`,
      );
      assert.equal(m.downMessages - p.downMessages, waits, `${where}: every extra poll got one reply`);
      assert.equal(m.up, p.up + waits * waitPoll.up, `${where} up: the plan plus ${waits} wait polls`);
      // a wait reply carries the run's attempt once the server knows it, none before (ADR 0036)
      const withAttempt = (m.down - p.down - waits * waitPoll.downBare) / waitPoll.attemptBytes;
      assert.ok(
        Number.isInteger(withAttempt) && withAttempt >= 0 && withAttempt <= waits,
        `${where} down: ${m.down} is the plan's ${p.down} plus ${waits} wait replies of ${waitPoll.downBare} bytes, of which some carry the attempt (${waitPoll.attemptBytes} bytes more)`,
      );
      continue;
    }
    assert.equal(m.upMessages, p.upMessages, `${where}: messages up`);
    assert.equal(m.downMessages, p.downMessages, `${where}: messages down`);
    assert.equal(m.down, p.down, `${where}: bytes down`);
    if (kind === "parameters") {
      const slack = UPLOAD_META_SLACK * p.upMessages;
      assert.ok(Math.abs(m.up - p.up) <= slack, `${where}: bytes up ${m.up} vs planned ${p.up} (± ${slack})`);
    } else {
      assert.equal(m.up, p.up, `${where}: bytes up`);
    }
  }
  return got.control.upMessages - planned.control.upMessages;
}

/**
 * Plans `c` (R rounds) for the run's sample counts and asserts the ledger equals the plan in every
 * round and after the last; for the methods with big frames, that they went in several messages.
 */
export function assertPlanMatchesLedger(
  c: RunConfig,
  shapes: TrafficShapes,
  run: TrafficRun,
  maxPayload: number,
): void {
  assert.deepEqual(run.badFrames, {}, "no error replies");
  const plan = planMethodTraffic({ config: c, shapes, samplesPerClient: run.samples, maxPayload });
  const sizer = new ExchangeSizer(maxPayload);
  const measured = measuredByRound(run.traffic);
  const R = c.training.rounds;
  assert.deepEqual(
    [...measured.keys()].sort(),
    Array.from({ length: R + 1 }, (_, i) => i + 1),
    `rounds 1..${R}, and the final polls keyed round ${R + 1}`,
  );
  const waitOf = (lastRound: number): WaitPoll => {
    const exchange = pollExchange(c, "client-0", lastRound, { action: "wait" });
    const wait = sizer.size(exchange);
    const bare = sizer.size({
      ...exchange,
      reply: { kind: "control", meta: { action: "wait" }, tensors: [] },
    });
    const down = wait.down[0]!.bytes;
    const downBare = bare.down[0]!.bytes;
    return { up: wait.up[0]!.bytes, downBare, attemptBytes: down - downBare };
  };
  for (const r of plan.rounds)
    compareRound(c, `round ${r.round}`, r.byKind, measured.get(r.round)!, waitOf(r.round - 1));
  compareRound(c, "after the last round", plan.afterLastRound.byKind, measured.get(R + 1)!, waitOf(R));
  if (c.method !== "fl-prompt") {
    // the big frames went in several messages each (so chunk headers and acks were compared too)
    const kind = c.method === "fl-full" ? "parameters" : "activation";
    const frames = run.samples
      .flatMap((n, i) => roundExchanges(c, shapes, `client-${i}`, 1, n))
      .filter((x) => x.request.kind === kind)
      .reduce((sum, x) => sum + x.times, 0);
    assert.ok(measured.get(1)![kind].upMessages > frames, `${kind} frames were chunked`);
  }
}
