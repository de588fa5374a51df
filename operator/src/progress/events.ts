// Folds the protocol's progress events (@sfprompt/protocol events.ts) into a ProgressSnapshot. Pure,
// so replaying the stream from its start rebuilds exactly the same view after an operator restart.
import { attemptVerdict, type ProgressEvent } from "@sfprompt/protocol";
import { newAttemptSnapshot, type ClientProgress, type ProgressSnapshot } from "./snapshot.js";

/** The longest checkpoint name status.lastCheckpoint.object holds. */
const MAX_CHECKPOINT_NAME = 1024;

/**
 * The client index behind a data-plane client name: the trailing number (`client-3` → 3), which is
 * how the client pods name themselves from SFPROMPT_CLIENT_INDEX. Names without one are not shown.
 */
export function clientIndexOf(name: string): number | undefined {
  const m = /(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function withClient(
  s: ProgressSnapshot,
  name: string,
  update: (c: ClientProgress) => ClientProgress,
): ProgressSnapshot {
  const index = clientIndexOf(name);
  if (index === undefined) return s;
  return { ...s, clients: { ...s.clients, [index]: update(s.clients[index] ?? {}) } };
}

const laterRound = (c: ClientProgress, round: number | undefined): number | undefined =>
  round === undefined ? c.lastRound : Math.max(c.lastRound ?? 0, round);

function foldRoundFinished(
  s: ProgressSnapshot,
  e: Extract<ProgressEvent, { type: "round.finished" }>,
): ProgressSnapshot {
  const better = s.bestAccuracy === undefined || e.accuracy > s.bestAccuracy;
  let out: ProgressSnapshot = {
    ...s,
    // The latest round wins, not the highest: a resume from an older checkpoint, or a run that started
    // over, trains those rounds again, and the status follows the run as it is now.
    round: e.round,
    loss: e.loss,
    accuracy: e.accuracy,
    ...(better ? { bestAccuracy: e.accuracy, bestRound: e.round } : {}),
    roundBytes: { ...s.roundBytes, [e.round]: e.bytes },
  };
  for (const p of e.participants)
    out = withClient(out, p, (c) => ({ ...c, lastRound: laterRound(c, e.round) }));
  // the latest round's counts win (kept can change from round to round as the scores move)
  for (const k of e.contributions ?? [])
    out = withClient(out, k.client, (c) => ({ ...c, samples: k.samples, kept: k.kept }));
  return out;
}

function foldEvent(s: ProgressSnapshot, e: ProgressEvent): ProgressSnapshot {
  switch (e.type) {
    case "round.finished":
      return foldRoundFinished(s, e);
    case "client.state":
      return withClient(s, e.client, (c) => {
        // A state's reason belongs to that state: a new state without one clears the old.
        const next: ClientProgress = { ...c, state: e.state, stateAt: e.at };
        const lastRound = laterRound(c, e.round);
        if (lastRound !== undefined) next.lastRound = lastRound;
        if (e.reason !== undefined) next.reason = e.reason;
        else delete next.reason;
        return next;
      });
    case "server.ready":
      return {
        ...s,
        server: {
          instance: e.instance,
          requested: e.executionProvider.requested,
          actual: e.executionProvider.actual,
          ...(e.fallbackReason !== undefined ? { fallbackReason: e.fallbackReason } : {}),
          at: e.at,
        },
      };
    case "checkpoint.written":
      // A name longer than status.lastCheckpoint.object allows would make every status write fail;
      // such a checkpoint is left out of the status (the server's log and the bucket still have it).
      if (e.object.length > MAX_CHECKPOINT_NAME) return s;
      return { ...s, lastCheckpoint: { round: e.round, object: e.object } };
    case "job.finished":
      return {
        ...s,
        round: e.rounds,
        loss: e.loss,
        accuracy: e.accuracy,
        jobBytes: e.bytes,
        outcome: { kind: "completed", round: e.rounds },
      };
    case "job.failed":
      return { ...s, outcome: { kind: "failed", reason: e.reason, message: e.message } };
    case "round.started":
    case "round.failed":
      // Visible in the server's log and the stream; the status keeps completed rounds only.
      return s;
    default:
      // An event type this operator does not know (a newer server): keep the view as it is.
      return s;
  }
}

/**
 * The snapshot after `event`, delivered at stream sequence `sequence`. An event of a new run attempt
 * (the job started over) starts the view again from nothing; one of an attempt already replaced (a
 * server that was still going, or retried its events, after its successor started) changes nothing.
 */
export function applyProgressEvent(
  s: ProgressSnapshot,
  event: ProgressEvent,
  sequence: number,
): ProgressSnapshot {
  const verdict = attemptVerdict(s.attempts, event);
  if (verdict === "stale") return { ...s, sequence };
  const current = verdict === "new" ? newAttemptSnapshot(s, event.attempt!) : s;
  return { ...foldEvent(current, event), sequence };
}
