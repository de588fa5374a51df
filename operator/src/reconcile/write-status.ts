// The one status write of a reconcile, a valid spec's or an invalid spec's (reportInvalid): the merge
// patch over the status built on, sent only if it changes something, remembered in WrittenStatus (so
// that a reconcile on a cache that lags it builds on it, not on the status it replaced) and counted.
import type { JobRef } from "../desired/owner.js";
import type { StatusWrite } from "../status/compute-status.js";
import { statusPatch } from "../status/status-patch.js";
import type { ReconcileDeps } from "./deps.js";

/** Writes `next` over `stored` (the Base's); false when nothing changed and nothing was sent. */
export async function writeStatus(
  deps: ReconcileDeps,
  ref: JobRef,
  stored: unknown,
  next: StatusWrite,
): Promise<boolean> {
  const patch = statusPatch(stored, next);
  if (!patch) return false;
  await deps.client.patchJobStatus(ref.namespace, ref.name, patch);
  deps.written.record(ref.uid, stored, next);
  deps.metrics.statusWrites.inc();
  return true;
}
