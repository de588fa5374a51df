// The pure part of leader election: given the Lease as last read and when this process first saw its
// current record, may this candidate take or renew it? Expiry is judged by the local clock since the
// record was observed (as client-go does), never by comparing clocks across machines.

export interface LeaseRecord {
  holder: string;
  /** The lease's renewTime as written by its holder; only compared for equality. */
  renewTime: string;
  durationMs: number;
}

export interface Observation {
  record: LeaseRecord;
  /** Local time (ms) at which this exact record was first seen. */
  observedAt: number;
}

export type LeaseDecision = { action: "take" } | { action: "renew" } | { action: "wait"; retryInMs: number };

/** Keeps the observation time while the record is unchanged; a new record restarts the clock. */
export function observe(prev: Observation | undefined, record: LeaseRecord, now: number): Observation {
  const same =
    prev &&
    prev.record.holder === record.holder &&
    prev.record.renewTime === record.renewTime &&
    prev.record.durationMs === record.durationMs;
  return same ? prev : { record, observedAt: now };
}

export function decide(obs: Observation, identity: string, now: number): LeaseDecision {
  const { holder, durationMs } = obs.record;
  if (holder === identity) return { action: "renew" };
  if (holder === "") return { action: "take" };
  const expiresAt = obs.observedAt + durationMs;
  return now >= expiresAt ? { action: "take" } : { action: "wait", retryInMs: expiresAt - now };
}
