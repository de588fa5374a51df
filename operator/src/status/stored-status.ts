// A job's stored status as the API's schema reads it: the reconciler's previous status, the webhook's
// view of the old object, the /metrics series. A status that does not read (none the operator writes)
// counts as none.
import { StatusSchema, type Status } from "@sfprompt/api";

export function storedStatus(job: object): Status | undefined {
  const r = StatusSchema.safeParse((job as { status?: unknown }).status);
  return r.success ? r.data : undefined;
}
