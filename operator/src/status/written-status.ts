// Remembers the last status this operator wrote for each job, so that a reconcile running on a cache
// that has not yet seen that write does not compute and write the same status a second time (with
// fresh condition timestamps). Only the operator writes the status, so a cached status equal to the
// one the write replaced can only mean a stale cache.
import type { StatusWrite } from "./compute-status.js";
import { normalizedStatus } from "./status-patch.js";

export class WrittenStatus {
  private readonly byUid = new Map<string, { replaced: string; written: StatusWrite }>();

  /** Records that `written` replaced `replaced` for the job with `uid`. */
  record(uid: string, replaced: unknown, written: StatusWrite): void {
    this.byUid.set(uid, { replaced: normalizedStatus(replaced), written });
  }

  /**
   * The status to build on: the cached one as stored (one that does not read as the API's too, so
   * that the next write replaces it), or our newer write if the cache lags.
   */
  current(uid: string, cached: unknown): unknown {
    const w = this.byUid.get(uid);
    if (!w) return cached;
    if (normalizedStatus(cached) === w.replaced) return w.written;
    this.byUid.delete(uid); // the cache caught up (or moved on): trust it from now on
    return cached;
  }

  forget(uid: string): void {
    this.byUid.delete(uid);
  }
}
