// Folds the protocol's progress events (@sfprompt/protocol events.ts) into a ProgressSnapshot. Pure,
// so replaying the stream from its start rebuilds exactly the same view after an operator restart.
import { attemptVerdict, type ProgressEvent } from "@sfprompt/protocol";
import { withCheckpointBest, withRoundAccuracy } from "./best-round.js";
import { withHistoryRounds, withRoundRecord } from "./round-history.js";
import { dropFrom, lastRoundOf, NO_ROUNDS, settleAt, tookPart, type ClientRounds } from "./client-rounds.js";
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

/**
 * `s` with the clients' rounds replaced by `rounds`, and the lastRound of each client whose rounds
 * changed following them (absent when none of its rounds is known any more).
 */
function withClientRounds(s: ProgressSnapshot, rounds: Record<number, ClientRounds>): ProgressSnapshot {
  const clients = { ...s.clients };
  for (const [key, c] of Object.entries(rounds)) {
    const index = Number(key);
    if (c === s.clientRounds[index]) continue;
    const next: ClientProgress = { ...clients[index] };
    const last = lastRoundOf(c);
    if (last === undefined) delete next.lastRound;
    else next.lastRound = last;
    clients[index] = next;
  }
  return { ...s, clients, clientRounds: rounds };
}

/** `s` with client `name` having reported itself in round `round`. */
function reportedIn(s: ProgressSnapshot, name: string, round: number): ProgressSnapshot {
  const index = clientIndexOf(name);
  if (index === undefined) return s;
  const c = tookPart(s.clientRounds[index] ?? NO_ROUNDS, round);
  return withClientRounds(s, { ...s.clientRounds, [index]: c });
}

function foldRoundFinished(
  s: ProgressSnapshot,
  e: Extract<ProgressEvent, { type: "round.finished" }>,
): ProgressSnapshot {
  let out: ProgressSnapshot = {
    ...s,
    // The latest round wins, not the highest: a resume from an older checkpoint, or a run that started
    // over, trains those rounds again, and the status follows the run as it is now.
    round: e.round,
    loss: e.loss,
    accuracy: e.accuracy,
    // the best over the rounds as they stand: a round run again replaces its result, and the rounds
    // after it, which the resumed server runs again too, no longer count (ADR 0043)
    ...withRoundAccuracy(s, s.round, e.round, e.accuracy),
    roundHistory: withRoundRecord(s.roundHistory, s.round, e),
    roundBytes: { ...s.roundBytes, [e.round]: e.bytes },
  };
  // Who took part in this round and later ones is what this round's participants say: a re-run
  // without a client takes back its part in the discarded run's rounds.
  const rounds: Record<number, ClientRounds> = {};
  for (const [key, c] of Object.entries(s.clientRounds)) rounds[Number(key)] = dropFrom(c, e.round);
  for (const p of e.participants) {
    const index = clientIndexOf(p);
    if (index !== undefined) rounds[index] = tookPart(rounds[index] ?? NO_ROUNDS, e.round);
  }
  out = withClientRounds(out, rounds);
  // the latest round's counts win (kept can change from round to round as the scores move)
  for (const k of e.contributions ?? [])
    out = withClient(out, k.client, (c) => ({ ...c, samples: k.samples, kept: k.kept }));
  return out;
}

/** `s` after a checkpoint of round `round`: no resume runs the rounds up to it again. */
function settledAt(s: ProgressSnapshot, round: number): ProgressSnapshot {
  const rounds: Record<number, ClientRounds> = {};
  for (const [key, c] of Object.entries(s.clientRounds)) rounds[Number(key)] = settleAt(c, round);
  return { ...s, clientRounds: rounds };
}

/**
 * `s` once the server went on from the checkpoint of round `e.round` (ADR 0046): the run stands at
 * that round before its next one finishes (another job's round, for a job with resumeFrom). Never
 * back: a restart that resumes from a checkpoint older than the rounds reported runs those rounds
 * again, and their round.finished take the later ones back (ADR 0043). No bytes: the checkpoint's
 * rounds were counted when they ran, or are another job's.
 */
function foldResumed(
  s: ProgressSnapshot,
  e: Extract<ProgressEvent, { type: "run.resumed" }>,
): ProgressSnapshot {
  const out: ProgressSnapshot = {
    ...s,
    round: Math.max(s.round ?? 0, e.round),
    // the best of the checkpoint's rounds, which the stream may no longer hold (amendment 5); a
    // round after the checkpoint reported before stays until its re-run takes it back (ADR 0043)
    ...(e.best === undefined ? {} : withCheckpointBest(s, e.best.round, e.best.accuracy)),
  };
  // A round past the last one seen (another job's, a lost stream, a round.finished never sent):
  // the loss and accuracy are the checkpoint's, which the event carries (ADR 0046, amendments 3
  // and 4), not the round before's or none. Those of a round seen, or a later one, stay.
  if (e.round > (s.round ?? 0)) {
    if (e.loss !== undefined) out.loss = e.loss;
    if (e.accuracy !== undefined) out.accuracy = e.accuracy;
  }
  if (e.inherited !== undefined) out.resumedFrom = { job: e.inherited.job, round: e.inherited.round };
  // the job's own checkpoint, when the stream no longer holds its checkpoint.written (a NATS without
  // persistence restarted); another job's is not this job's (status.lastCheckpoint, ADR 0044)
  const own = e.from === undefined && e.object.length <= MAX_CHECKPOINT_NAME;
  if (own && s.lastCheckpoint === undefined) out.lastCheckpoint = { round: e.round, object: e.object };
  return out;
}

/**
 * `s` with the rounds of a checkpoint's history it lacks (run.history, ADR 0046 amendments 6 and 7):
 * rounds that finished before this server started, which the stream may no longer hold (lost or
 * expired). The views, the bytes per round and the rounds each client took part in get the rounds
 * they lack, as a stream that held their round.finished would have given them; a round the stream
 * reported stays as it is. The round, metrics and best are run.resumed's (amendments 4 and 5), and
 * the clients' samples and kept are not in the history (the checkpoint keeps the sums only).
 */
function foldHistory(
  s: ProgressSnapshot,
  e: Extract<ProgressEvent, { type: "run.history" }>,
): ProgressSnapshot {
  const lacking = e.rounds.filter((r) => !Object.hasOwn(s.roundHistory, r.round));
  const roundBytes = { ...s.roundBytes };
  for (const r of e.rounds) if (!Object.hasOwn(roundBytes, r.round)) roundBytes[r.round] = r.bytes;
  const rounds: Record<number, ClientRounds> = { ...s.clientRounds };
  const touched = new Set<number>();
  for (const r of lacking)
    for (const p of r.participants) {
      const index = clientIndexOf(p);
      if (index === undefined) continue;
      rounds[index] = tookPart(rounds[index] ?? NO_ROUNDS, r.round);
      touched.add(index);
    }
  // the history's rounds are up to the checkpoint the server goes on from: none is run again
  for (const index of touched) rounds[index] = settleAt(rounds[index]!, e.round);
  const out: ProgressSnapshot = {
    ...s,
    roundHistory: withHistoryRounds(s.roundHistory, e.rounds, e.at),
    roundBytes,
  };
  return withClientRounds(out, rounds);
}

function foldEvent(s: ProgressSnapshot, e: ProgressEvent): ProgressSnapshot {
  switch (e.type) {
    case "round.finished":
      return foldRoundFinished(s, e);
    case "client.state": {
      const next = withClient(s, e.client, (c) => {
        // A state's reason belongs to that state: a new state without one clears the old.
        const state: ClientProgress = { ...c, state: e.state, stateAt: e.at };
        if (e.reason !== undefined) state.reason = e.reason;
        else delete state.reason;
        return state;
      });
      return e.round === undefined ? next : reportedIn(next, e.client, e.round);
    }
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
    case "checkpoint.written": {
      const settled = settledAt(s, e.round);
      // A name longer than status.lastCheckpoint.object allows would make every status write fail;
      // such a checkpoint is left out of the status (the server's log and the bucket still have it).
      if (e.object.length > MAX_CHECKPOINT_NAME) return settled;
      return { ...settled, lastCheckpoint: { round: e.round, object: e.object } };
    }
    case "run.resumed":
      return foldResumed(s, e);
    case "run.history":
      return foldHistory(s, e);
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
      return { ...s, outcome: { kind: "failed", reason: e.reason, message: e.message, at: e.at } };
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
