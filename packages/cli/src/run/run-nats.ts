// The NATS of a local run: the --nats server, or a nats-server started on the run directory's
// JetStream store, opened on first use, so that a run whose methods all finished earlier starts none.
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { SFPromptJob } from "@sfprompt/api";
import { openArtifactStore, startLocalNats, type LocalNats } from "@sfprompt/protocol";
import { NatsUrlError } from "./errors.js";
import { runConfigFor } from "./job-file.js";
import { sourceCheckpoint } from "./resume-source.js";
import { RUN_FILES, type CheckpointsFound } from "./run-dir.js";
import { recordNatsServer } from "./run-lock.js";

export interface RunNatsOptions {
  /** --nats: use this server instead of starting one. */
  readonly url?: string;
  readonly dir: string;
  /** The job's spec.transport.maxPayload, for the nats-server started here. */
  readonly maxPayload: number;
}

export interface OpenNats {
  readonly nc: NatsConnection;
  readonly natsUrl: string;
}

/**
 * The given URL, or a nats-server started here with the job's max_payload, so a local run chunks its
 * frames as the job on a cluster does and `sfprompt traffic JOB` plans its bytes.
 */
async function startNats(o: RunNatsOptions): Promise<{ url: string; local?: LocalNats }> {
  if (o.url !== undefined) return { url: o.url };
  const local = await startLocalNats({
    storeDir: join(o.dir, RUN_FILES.nats),
    logFile: join(o.dir, RUN_FILES.logs, "nats.log"),
    maxPayload: o.maxPayload,
    // a terminal's Ctrl-C must reach the server and clients, not the NATS they stop through; the
    // run stops it after them, and its watcher stops it should this process die first
    ownProcessGroup: true,
  });
  try {
    recordNatsServer(o.dir, local.pid);
  } catch (error) {
    await local.stop(); // its handle would keep this process alive after the error
    throw error;
  }
  return { url: local.url, local };
}

/** The run's NATS and the CLI's connection to it, opened by the first `open()`. */
export class RunNats {
  #opened: Promise<OpenNats & { local?: LocalNats }> | undefined;

  constructor(private readonly o: RunNatsOptions) {}

  open(): Promise<OpenNats> {
    this.#opened ??= (async () => {
      const nats = await startNats(this.o);
      try {
        const nc = await connect({ servers: nats.url, name: "sfprompt-run" });
        return { nc, natsUrl: nats.url, ...(nats.local === undefined ? {} : { local: nats.local }) };
      } catch (error) {
        await nats.local?.stop();
        throw error;
      }
    })();
    return this.#opened;
  }

  /** Closes the connection and stops the nats-server started here (none when never opened). */
  async close(interrupted: boolean): Promise<void> {
    const opened = await this.#opened?.catch(() => undefined);
    if (opened === undefined) return;
    // interrupted: nothing to flush, and draining would wait on a nats-server that may be gone
    // (killed, or the --nats one) for as long as the client library retries
    await (interrupted ? opened.nc.close() : opened.nc.drain()).catch(() => undefined);
    await opened.local?.stop();
  }
}

/**
 * Whether the job already has a checkpoint on an external NATS server (--nats), and what its
 * spec.output.resumeFrom source's bucket there holds (only read).
 */
export async function externalCheckpoints(url: string, job: SFPromptJob): Promise<CheckpointsFound> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: "sfprompt-run-probe" });
  } catch (cause) {
    throw new NatsUrlError(
      url,
      `cannot connect (${(cause as Error).message}); check the URL (nats://HOST:PORT) and that a nats-server with JetStream runs there, or leave --nats out to start one`,
      { cause },
    );
  }
  try {
    const config = runConfigFor(job, job.spec.method);
    const store = await openArtifactStore(nc, config.names);
    const own = (await store.latestCheckpoint()) !== null;
    const resumeFrom = await sourceCheckpoint(nc, config);
    return { own, ownBucket: config.names.bucket, ...(resumeFrom === undefined ? {} : { resumeFrom }) };
  } catch (cause) {
    if ((cause as Error).name !== "JetStreamNotEnabled") throw cause;
    throw new NatsUrlError(
      url,
      "JetStream is not enabled on this server; start nats-server with -js (or a jetstream block in its config)",
      { cause },
    );
  } finally {
    await nc.drain().catch(() => undefined);
  }
}
