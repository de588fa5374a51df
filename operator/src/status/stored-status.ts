// A job's stored status as the API's schema reads it: the reconciler's previous status, the webhook's
// view of the old object, the /metrics series. A status that does not read (none this operator
// writes; a hand-made patch or another operator version's) says why, and what of it still reads
// (ADR 0023, amendment 5).
import { StatusSchema, type Status } from "@sfprompt/api";

/** One thing the schema rejects in a stored status: `status.startTime`, `Invalid ISO datetime`. */
export interface StatusIssue {
  path: string;
  message: string;
}

/**
 * The stored status, read: absent, the API's status, or unreadable with the schema's issues and
 * `kept`, the status without the top-level fields the issues are in (undefined if that does not read
 * either).
 */
export type StoredStatus =
  | { readable: true; status: Status | undefined }
  | {
      readable: false;
      status: undefined;
      issues: StatusIssue[];
      kept: Status | undefined;
      /** The top-level fields the issues are in, which `kept` lacks (`metrics`, `round`, …), sorted. */
      rejected: string[];
    };

/** `raw` without its top-level fields named in `bad`, if that reads. */
function keptFields(raw: unknown, bad: ReadonlySet<PropertyKey | undefined>): Status | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const rest = Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k)));
  const r = StatusSchema.safeParse(rest);
  return r.success ? r.data : undefined;
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, k) => (typeof k === "number" ? `${out}[${k}]` : `${out}.${String(k)}`),
    "status",
  );
}

/** Reads `job.status` with the API's StatusSchema; an absent status reads as none. */
export function readStoredStatus(job: object): StoredStatus {
  const raw = (job as { status?: unknown }).status;
  if (raw === undefined || raw === null) return { readable: true, status: undefined };
  const r = StatusSchema.safeParse(raw);
  if (r.success) return { readable: true, status: r.data };
  const issues = r.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }));
  const bad = new Set(r.error.issues.map((i) => i.path[0]));
  const rejected = [...bad].filter((k): k is string => typeof k === "string").sort();
  return { readable: false, status: undefined, issues, kept: keptFields(raw, bad), rejected };
}

/** What the operator builds on: the status, or of an unreadable one the fields that read. */
export function usableStatus(read: StoredStatus): Status | undefined {
  return read.readable ? read.status : read.kept;
}

/** The stored status when it reads as the API's, else undefined. */
export function storedStatus(job: object): Status | undefined {
  return readStoredStatus(job).status;
}

/** The issues as one line: `status.startTime: Invalid ISO datetime; status.round: …`. */
export function issuesText(issues: readonly StatusIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
