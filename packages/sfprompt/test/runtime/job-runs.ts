// Helpers of the runtime tests that run whole jobs one after another on their file's nats-server and
// tiny bundle (resume-from-job, output-bucket): a job run to its end with its clients, a server
// start that fails before its first round, the parameter layout to read checkpoints with, and a
// bucket's contents to compare before and after.
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import { jsonLogger, joinParams, PartitionBundle, type ParamSet, type ServerHandle } from "@sfprompt/core";
import { openExistingArtifactStore, type ArtifactStore, type ProgressEvent } from "@sfprompt/protocol";
import { startClients, startTestServer, type NatsAndBundle } from "./job-fixture.js";

export interface JobRuns {
  /** A job name unique to this test process. */
  newName(what: string): string;
  /** Runs `config` to its end with its three clients; the server's result, log lines and events. */
  runJob(config: RunConfig): Promise<{
    result: Awaited<ServerHandle["done"]>;
    logs: Record<string, unknown>[];
    events: ProgressEvent[];
  }>;
  /** Starts the job's server without clients (it fails before its first round): its error and job.failed. */
  failedStart(config: RunConfig): Promise<{ error: unknown; failed?: ProgressEvent }>;
  /** The bundle's prompt + tail layout, as checkpoints hold it. */
  layout(): ParamSet;
}

/** The helpers on `w`, the file's nats-server and bundle (natsAndBundleHooks). */
export function jobRuns(w: NatsAndBundle): JobRuns {
  let jobs = 0;
  return {
    newName: (what) => `${what}-${process.pid}-${++jobs}`,
    async runJob(config) {
      const stop = new AbortController();
      const clients = await startClients(config, {
        connect: () => w.nats.connect(),
        bundle: w.bundle.dir,
        signal: stop.signal,
      });
      const logs: Record<string, unknown>[] = [];
      const logger = jsonLogger({ write: (l) => void logs.push(JSON.parse(l) as Record<string, unknown>) });
      const events: ProgressEvent[] = [];
      const server = await startTestServer(config, {
        nc: w.nats.nc,
        bundle: w.bundle.dir,
        logger,
        lingerMs: 300,
        onEvent: (e) => events.push(e),
      });
      try {
        return { result: await server.done, logs, events };
      } finally {
        stop.abort();
        await Promise.all(clients.map((c) => c.done));
      }
    },
    async failedStart(config) {
      const events: ProgressEvent[] = [];
      const server = await startTestServer(config, {
        nc: w.nats.nc,
        bundle: w.bundle.dir,
        onEvent: (e) => events.push(e),
        lingerMs: 0,
      });
      const error = await server.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      return { error, failed: events.find((e) => e.type === "job.failed") };
    },
    layout() {
      const b = PartitionBundle.load(w.bundle.dir);
      const init = b.initialParams();
      void b.release();
      return joinParams(init.prompt, init.tail);
    },
  };
}

/** Every object of the bucket with its digest and revision: what "unchanged" compares. */
export async function bucketContents(store: ArtifactStore): Promise<string[]> {
  const infos = await store.store.list();
  return infos.map((i) => `${i.name} ${i.digest} ${i.revision} ${i.deleted}`).sort();
}

/** A JSON logger that keeps every line, and `seen`, which resolves at the first line of `event`. */
export function logsUntil(event: string): {
  logs: Record<string, unknown>[];
  logger: ReturnType<typeof jsonLogger>;
  seen: Promise<void>;
} {
  const logs: Record<string, unknown>[] = [];
  let resolve!: () => void;
  const seen = new Promise<void>((r) => (resolve = r));
  const logger = jsonLogger({
    write: (l) => {
      const line = JSON.parse(l) as Record<string, unknown>;
      logs.push(line);
      if (line.event === event) resolve();
    },
  });
  return { logs, logger, seen };
}

/**
 * The advice of a job refused because another job that named its default bucket holds it, by where
 * the job runs: from a file (`inCluster` false), give that job a bucket of its own; in a cluster,
 * where that job's spec.output.bucket is fixed, create this job again under another name.
 */
export function assertDefaultBucketAdvice(message: string, inCluster: boolean): void {
  if (inCluster) {
    assert.doesNotMatch(message, /give that job a spec\.output\.bucket/);
    assert.match(
      message,
      /spec\.output\.bucket is fixed when a job is created, so that job keeps it: create this job again under another name/,
    );
  } else {
    assert.match(message, /give that job a spec\.output\.bucket of its own/);
  }
}

/** The bucket `bucket`, which must exist (a job wrote it). */
export async function existingBucket(nc: NatsConnection, bucket: string): Promise<ArtifactStore> {
  const store = await openExistingArtifactStore(nc, bucket);
  assert.ok(store !== null, `bucket ${bucket} exists`);
  return store;
}
