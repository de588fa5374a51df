// Run configs for the runtime tests, derived from SFPromptJob manifests exactly as the CLI and the
// operator derive them, a real nats-server per test file, and a job's clients run in this process.
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import { applyDefaults, toRunConfig, type RunConfig } from "@sfprompt/api";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  partitionForJob,
  runClient,
  startServer,
  type ClientOptions,
  type ClientResult,
  type Logger,
  type ServerHandle,
  type ServerOptions,
} from "@sfprompt/core";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { fashionSubsets, tinyBundle, type BundleFixture } from "./bundle-fixture.js";

let counter = 0;

/**
 * What the API server adds to a job's metadata: a job with a uid is run as the operator runs it, from
 * the SFPromptJob object in a cluster, not from a file (jobHome).
 */
export interface ClusterMetadata {
  readonly uid: string;
}

/** The metadata of a job the API server stored (a new uid for each call). */
export function inCluster(): ClusterMetadata {
  return { uid: randomUUID() };
}

/**
 * The run config of a small job (3 clients, 2 rounds, batch 16); `spec` is merged over it. With
 * `stored`, the job is one an API server stored, as the operator renders it.
 */
export function jobConfig(
  spec: Record<string, unknown> = {},
  name?: string,
  stored?: ClusterMetadata,
): RunConfig {
  const base: Record<string, unknown> = {
    method: "sfprompt",
    prompts: { length: 4 },
    clients: { count: 3, perRound: { count: 3 } },
    data: { source: { builtin: "fashion-mnist" }, partitioning: { strategy: "iid", seed: 1 } },
    training: {
      rounds: 2,
      batchSize: 16,
      seed: 5,
      optimizer: { name: "adam", learningRate: 0.01 },
      quorum: { count: 2 },
      roundTimeoutSeconds: 60,
    },
    transport: { requestTimeoutSeconds: 10 },
    // the CUDA attempt and its fallback are tested once, in bundle.test.ts
    server: { executionProvider: "cpu" },
  };
  const merged = deepMerge(base, spec);
  const job = applyDefaults({
    apiVersion: "sfprompt.io/v1alpha1",
    kind: "SFPromptJob",
    metadata: { name: name ?? `job-${process.pid}-${++counter}`, namespace: "test", ...stored },
    spec: merged,
  });
  return toRunConfig(job);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const old = out[k];
    // a data source is one of several shapes: a given one replaces the default instead of merging
    const replace = k === "source" || k === "evalSource";
    out[k] =
      !replace &&
      v !== null &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      old !== null &&
      typeof old === "object" &&
      !Array.isArray(old)
        ? deepMerge(old as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export interface NatsFixture {
  readonly server: TestNats;
  readonly nc: NatsConnection;
  connect(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

/** A throw-away nats-server and a connection to it. */
export async function natsFixture(): Promise<NatsFixture> {
  const server = await startNatsServer();
  const conns: NatsConnection[] = [];
  const open = async (): Promise<NatsConnection> => {
    const c = await connect({ servers: server.url });
    conns.push(c);
    return c;
  };
  const nc = await open();
  return {
    server,
    nc,
    connect: open,
    async stop() {
      await Promise.allSettled(conns.map((c) => c.close()));
      await server.stop();
    },
  };
}

/** A test file's nats-server and tiny bundle, filled in by the hooks natsAndBundleHooks registers. */
export interface NatsAndBundle {
  nats: NatsFixture;
  bundle: BundleFixture;
}

/** Registers the file's hooks: before, start natsFixture() and build tinyBundle(); after, stop and remove them. */
export function natsAndBundleHooks(): NatsAndBundle {
  const w = {} as NatsAndBundle;
  before(async () => {
    w.nats = await natsFixture();
    w.bundle = tinyBundle();
  });
  after(async () => {
    await w.nats?.stop();
    w.bundle?.remove();
  });
  return w;
}

/**
 * Starts the job's server on `o.nc` and `o.bundle`, evaluating on the Fashion-MNIST test subset, with
 * the runtime tests' short waits (polls 500 ms, selection 1.5 s, linger 600 ms) unless `o` sets them.
 */
export async function startTestServer(config: RunConfig, o: ServerOptions): Promise<ServerHandle> {
  const { test: held } = await fashionSubsets();
  return startServer(config, {
    evalData: held,
    pollWaitMs: 500,
    selectionWaitMs: 1500,
    lingerMs: 600,
    ...o,
  });
}

/** One client of a test job, run in this process. */
export interface TestClient {
  readonly index: number;
  readonly nc: NatsConnection;
  /** Aborts this client alone. */
  readonly stop: AbortController;
  /** Its result, or the error it ended with (never rejects). */
  readonly done: Promise<ClientResult | Error>;
}

export interface TestClientOptions {
  /** Each client's NATS connection (called once per client). */
  readonly connect: () => Promise<NatsConnection>;
  readonly bundle: string;
  /** The clients to start (default: every client of the job). */
  readonly indices?: readonly number[];
  /** Aborts every client. */
  readonly signal?: AbortSignal;
  /** Pause between the polls of a client that has no server yet (default 200 ms). */
  readonly retryDelayMs?: number;
  readonly logger?: Logger;
  /** Replaces the prompt + tail trainer (fl-full's wholeModelTrainer). */
  readonly trainer?: ClientOptions["trainer"];
  /** Told every client's requests (all clients share it). */
  readonly onRequest?: ClientOptions["onRequest"];
  /** Told every count of every client's ledger (all clients share it). */
  readonly onTraffic?: ClientOptions["onTraffic"];
}

/**
 * Starts clients of `config`, each on its shard of the Fashion-MNIST training subset as the job
 * partitions it, and returns once each has its connection (the clients run on).
 */
export async function startClients(config: RunConfig, o: TestClientOptions): Promise<TestClient[]> {
  const { train } = await fashionSubsets();
  const shards = partitionForJob(train, config.data.partitioning, config.clients.count);
  const indices = o.indices ?? shards.map((_, i) => i);
  return Promise.all(
    indices.map(async (index) => {
      const nc = await o.connect();
      const stop = new AbortController();
      const done = runClient(config, index, {
        nc,
        bundle: o.bundle,
        data: shards[index]!,
        signal: o.signal ? AbortSignal.any([stop.signal, o.signal]) : stop.signal,
        retryDelayMs: o.retryDelayMs ?? 200,
        ...(o.logger ? { logger: o.logger } : {}),
        ...(o.trainer ? { trainer: o.trainer } : {}),
        ...(o.onRequest ? { onRequest: o.onRequest } : {}),
        ...(o.onTraffic ? { onTraffic: o.onTraffic } : {}),
      }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      return { index, nc, stop, done };
    }),
  );
}

/** The clients' results once they have all ended; rejects with the first one's error. */
export async function clientResults(clients: readonly TestClient[]): Promise<ClientResult[]> {
  const outcomes = await Promise.all(clients.map((c) => c.done));
  for (const o of outcomes) if (o instanceof Error) throw o;
  return outcomes as ClientResult[];
}
