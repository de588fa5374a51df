// A job that goes on from another job's checkpoint (spec.output.resumeFrom, ADR 0044), as a local
// run tells it before the server starts: the source's newest checkpoint. (Afterwards the job's own
// checkpoints name the source and its round: `inherited` in their metadata, see round-history.ts.)
import type { RunConfig } from "@sfprompt/api";
import { openExistingArtifactStore } from "@sfprompt/protocol";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * The status line for a session whose own store holds no checkpoint: where the server will go on
 * from. Undefined when the job sets no resumeFrom, or the source has no checkpoint (the server then
 * fails the job with a message that says what to do).
 */
export async function resumeFromLine(
  nc: NatsConnection,
  config: RunConfig,
  label: string,
): Promise<string | undefined> {
  const from = config.output.resumeFrom;
  if (from === undefined) return undefined;
  const newest = await (await openExistingArtifactStore(nc, from.bucket))?.latestCheckpoint();
  if (newest == null) return undefined;
  return `${label}: going on from job ${from.job}'s checkpoint of round ${newest.round} (spec.output.resumeFrom; bucket ${from.bucket}, only read; ${newest.round === 1 ? "round 1 is" : `rounds 1–${newest.round} are`} ${from.job}'s, logs/server.log's "resumed" event names the checkpoint read)`;
}
