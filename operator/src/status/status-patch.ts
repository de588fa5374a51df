// Decides whether the status changed and builds the one merge patch that writes it.
import { StatusSchema } from "@sfprompt/api";
import type { StatusWrite } from "./compute-status.js";

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, canonical(x)]),
    );
  }
  return v;
}

// Both sides go through the schema, so fields the API server defaults (byte counters) compare equal
// whether or not they were written.
export function normalizedStatus(status: unknown): string {
  const r = StatusSchema.safeParse(status ?? {});
  return JSON.stringify(canonical(r.success ? r.data : status));
}

/**
 * The merge patch that turns `previous` into `next`, or undefined when they are the same. Top-level
 * fields that `next` drops (startTime while suspended) are set to null, which a merge patch removes.
 */
export function statusPatch(previous: unknown, next: StatusWrite): Record<string, unknown> | undefined {
  if (normalizedStatus(previous) === normalizedStatus(next)) return undefined;
  const removed = Object.keys((previous as Record<string, unknown> | undefined) ?? {}).filter(
    (k) => !(k in next) || (next as Record<string, unknown>)[k] === undefined,
  );
  return { ...next, ...Object.fromEntries(removed.map((k) => [k, null])) };
}
