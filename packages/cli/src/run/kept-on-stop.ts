// What a stopped session leaves to go on from, told once its server and clients have stopped: the
// newest checkpoint in the job's store (a server that is stopping may still write one), not a guess
// made as the stop came.
import type { ArtifactStore } from "@sfprompt/protocol";

/** How long the store may take to list its checkpoints before the line says it cannot tell. */
const ASK_MS = 3000;

export interface KeptOf {
  readonly label: string;
  /** The rounds the job asks for. */
  readonly rounds: number;
  /** The job goes on from spec.output.resumeFrom's checkpoint when it has none of its own. */
  readonly resumeFrom: boolean;
}

/** The newest checkpoint's round, null for none, or why the store could not tell. */
export type Newest = { readonly round: number } | null | { readonly unknown: string };

/** The line for the newest checkpoint the store holds after the stop. */
export function keptLine(k: KeptOf, newest: Newest): string {
  if (newest !== null && "unknown" in newest)
    return `${k.label}: stopped; whether the job's store kept a checkpoint cannot be told (${newest.unknown}); the next run says what it goes on from`;
  if (newest === null) {
    const next = k.resumeFrom
      ? "goes on from spec.output.resumeFrom's checkpoint again"
      : "starts at round 1";
    return `${k.label}: stopped before its first checkpoint: no round is kept to go on from; the same command ${next}`;
  }
  if (newest.round >= k.rounds)
    return `${k.label}: stopped; the job's store keeps the checkpoint of its last round (${newest.round} of ${k.rounds}): run the same command to write its results`;
  return `${k.label}: stopped; the job's store keeps the checkpoint of round ${newest.round} of ${k.rounds}: run the same command to go on from round ${newest.round + 1}`;
}

/** Asks the store for its newest checkpoint, within ASK_MS (a NATS that is gone does not answer). */
export async function newestCheckpoint(store: ArtifactStore, ms = ASK_MS): Promise<Newest> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Newest>((resolve) => {
    timer = setTimeout(() => resolve({ unknown: `NATS did not answer within ${ms / 1000} s` }), ms);
  });
  const asked = store.latestCheckpoint().then(
    (c): Newest => (c === null ? null : { round: c.round }),
    (error: unknown): Newest => ({ unknown: `NATS answered: ${(error as Error).message}` }),
  );
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}
