// Decides whether the status changed and builds the one merge patch that writes it.
import { StatusSchema } from "@sfprompt/api";
import { canonicalJson } from "../canonical-json.js";
import type { StatusWrite } from "./compute-status.js";

// Both sides go through the schema, so fields the API server defaults (byte counters) compare equal
// whether or not they were written.
export function normalizedStatus(status: unknown): string {
  const r = StatusSchema.safeParse(status ?? {});
  return canonicalJson(r.success ? r.data : status);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `next` as a merge patch over `previous`: fields `next` drops are set to null, which a merge patch
 * removes, at every depth (a merge patch merges nested objects, so a dropped server.fallbackReason
 * would otherwise stay). Arrays are replaced whole by a merge patch and need nothing.
 */
function mergePatchOf(previous: unknown, next: Record<string, unknown>): Record<string, unknown> {
  const before = isRecord(previous) ? previous : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) continue;
    out[k] = isRecord(v) && isRecord(before[k]) ? mergePatchOf(before[k], v) : v;
  }
  for (const k of Object.keys(before)) if (!(k in out)) out[k] = null;
  return out;
}

/**
 * The merge patch that turns `previous` into `next`, or undefined when they are the same. Fields that
 * `next` drops (startTime while suspended, a fallback reason the server no longer reports) are set to
 * null.
 */
export function statusPatch(previous: unknown, next: StatusWrite): Record<string, unknown> | undefined {
  if (normalizedStatus(previous) === normalizedStatus(next)) return undefined;
  return mergePatchOf(previous, next as Record<string, unknown>);
}
