// A job that goes on from another job's checkpoint (spec.output.resumeFrom, ADR 0044), as a local
// run tells it: the source's newest checkpoint before the server starts, and afterwards the one the
// server read, from its own `resumed` log event.
import { readFileSync } from "node:fs";
import type { RunConfig } from "@sfprompt/api";
import { openExistingArtifactStore } from "@sfprompt/protocol";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";

/** The source job and the round of its checkpoint a job went on from. */
export interface ResumeSource {
  readonly job: string;
  readonly round: number;
}

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

const ResumedEventSchema = z.object({
  event: z.literal("resumed"),
  at: z.string(),
  round: z.number().int().min(0),
  from: z.string(),
});

/**
 * The source the server went on from in this session, from the server's log (appended to across
 * sessions: only events at or after `since` count); undefined when it resumed from a checkpoint of
 * its own or started at round 1.
 */
export function resumedFromLog(serverLog: string, since: number): ResumeSource | undefined {
  let text: string;
  try {
    text = readFileSync(serverLog, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let found: ResumeSource | undefined;
  for (const line of text.split("\n")) {
    if (!line.includes('"resumed"')) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue; // a line the server did not finish writing
    }
    const e = ResumedEventSchema.safeParse(json);
    if (e.success && Date.parse(e.data.at) >= since) found = { job: e.data.from, round: e.data.round };
  }
  return found;
}
