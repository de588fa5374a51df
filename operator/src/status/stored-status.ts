// A job's stored status as the API's schema reads it: the reconciler's previous status, the webhook's
// view of the old object, the /metrics series. A status that does not read (none this operator
// writes; a hand-made patch or another operator version's) says why, and what of it still reads
// (ADR 0023, amendments 5, 8 and 9).
import { StatusSchema, type Status } from "@sfprompt/api";
import type { z } from "zod";

/** One thing the schema rejects in a stored status: `status.startTime`, `Invalid ISO datetime`. */
export interface StatusIssue {
  path: string;
  message: string;
}

/**
 * The stored status, read: absent, the API's status, or unreadable with the schema's issues and
 * `kept`, the status without the values the issues are at, each dropped at the finest level that
 * then reads (undefined if the status is not an object).
 */
export type StoredStatus =
  | { readable: true; status: Status | undefined }
  | {
      readable: false;
      status: undefined;
      issues: StatusIssue[];
      kept: Status | undefined;
      /** The top-level fields the issues are in (`metrics`, `round`, …), sorted: `kept` has what of them reads. */
      rejected: string[];
    };

/** Marks an array item to drop; items are removed after each pass, so that indices hold within it. */
const DROPPED = Symbol("dropped");

/** Passes of `keptFields`: each drops a value or its parent, and the schema nests 3 levels deep. */
const MAX_PASSES = 8;

type Container = Record<PropertyKey, unknown>;

const isContainer = (v: unknown): v is Container => typeof v === "object" && v !== null;

/**
 * Drops the value at `path` from `root`; where there is none (a required field dropped in a pass
 * before), the item or object holding it goes instead. False when the path leaves nothing to keep.
 */
function drop(root: Container, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return false;
  let parent: unknown = root;
  for (const k of path.slice(0, -1)) parent = isContainer(parent) ? parent[k] : undefined;
  const key = path[path.length - 1]!;
  if (!isContainer(parent) || parent[key] === undefined) return drop(root, path.slice(0, -1));
  if (Array.isArray(parent)) parent[key as number] = DROPPED;
  else delete parent[key];
  return true;
}

/** `v` with the items marked DROPPED removed from its arrays, at any depth. */
function compact(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== DROPPED).map(compact);
  if (!isContainer(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x)]));
}

/** The value at `path` in `root`, if any. */
function valueAt(root: Container, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) v = isContainer(v) ? v[k] : undefined;
  return v;
}

/**
 * Puts a date-time written with a lower-case `t` or `z` (RFC 3339 allows either case; the older CRD
 * stored it, zod's pattern wants upper case) back in upper case, the same instant: true if it did. A
 * value still refused in upper case goes in the next pass (ADR 0023, amendment 9).
 */
function upperCaseTime(root: Container, issue: z.core.$ZodIssue): boolean {
  if (issue.code !== "invalid_format" || issue.format !== "datetime" || issue.path.length === 0) return false;
  const v = valueAt(root, issue.path);
  if (typeof v !== "string" || v === v.toUpperCase()) return false;
  const parent = valueAt(root, issue.path.slice(0, -1)) as Container;
  parent[issue.path[issue.path.length - 1]!] = v.toUpperCase();
  return true;
}

/**
 * `raw` without the values the schema rejects, each at the finest level that reads: a condition
 * without a readable lastTransitionTime goes, the other conditions stay; a client's `restarts` past
 * 2^53 goes, the client's entry stays. A lower-case date-time is kept, in upper case. Undefined if
 * `raw` is not an object.
 */
function keptFields(raw: unknown): Status | undefined {
  if (!isContainer(raw) || Array.isArray(raw)) return undefined;
  let value = structuredClone(raw);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const r = StatusSchema.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      if (upperCaseTime(value, issue)) continue;
      if (!drop(value, issue.path)) return undefined;
    }
    value = compact(value) as Container;
  }
  return undefined;
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
  return { readable: false, status: undefined, issues, kept: keptFields(raw), rejected };
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
