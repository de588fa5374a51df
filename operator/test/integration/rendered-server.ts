// The job's server as the operator renders it, for tests that run the server entry point as a real
// process: a checkpoint an earlier run left in the job's bucket, and the process started with the
// Deployment's env and the ConfigMap's run config.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import type { V1Deployment } from "@kubernetes/client-node";
import { PartitionBundle, joinParams, writeCheckpoint } from "@sfprompt/core";
import { ensureJobResources, openArtifactStore } from "@sfprompt/protocol";
import { ENTRY, spawnEntry, type Proc } from "../../../images/shell/test/harness.js";
import { RUN_CONFIG_KEY } from "../../src/desired/settings.js";

type CheckpointMeta = Parameters<typeof writeCheckpoint>[2];

/** Writes a checkpoint of the bundle's initial parameters into the bucket of job `meta.job` (its token), as a server would. */
export async function writeInitialCheckpoint(
  nc: NatsConnection,
  bundleDir: string,
  meta: CheckpointMeta,
): ReturnType<typeof writeCheckpoint> {
  await ensureJobResources(nc, meta.job);
  const b = PartitionBundle.load(bundleDir);
  const init = b.initialParams();
  await b.release();
  return writeCheckpoint(await openArtifactStore(nc, meta.job), joinParams(init.prompt, init.tail), meta);
}

/**
 * Starts the server entry point with the env the operator rendered into `deployment`, the run config
 * `configText` written into `dir`, and `bundleDir`, or without one (as a pod: the process prepares
 * the bundle from spec.model.source, under the cache folder `dir`/cache); its HTTP server on a free
 * local port.
 */
export function spawnRenderedServer(
  deployment: V1Deployment,
  run: { configText: string; dir: string; bundleDir?: string },
): Proc {
  const config = join(run.dir, RUN_CONFIG_KEY);
  writeFileSync(config, run.configText);
  const env: Record<string, string> = {};
  for (const e of deployment.spec!.template.spec!.containers[0]!.env ?? [])
    if (e.value !== undefined) env[e.name] = e.value;
  return spawnEntry(ENTRY.server, [], {
    ...env,
    SFPROMPT_RUN_CONFIG: config,
    SFPROMPT_CREDENTIALS_DIR: join(run.dir, "credentials"),
    ...(run.bundleDir !== undefined
      ? { SFPROMPT_BUNDLE_DIR: run.bundleDir }
      : { SFPROMPT_CACHE_DIR: join(run.dir, "cache") }),
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
  });
}
