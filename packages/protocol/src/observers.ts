// Hooks a caller hands the data plane (request latency, live traffic, refusals) are told, not
// trusted: one that throws is reported and the request, the reply or the count goes on as before.

/** A hook given to the data plane threw; `cause` is what it threw. */
export class ObserverError extends Error {
  override readonly name = "ObserverError";
  /** The option that threw: observe, onBadFrame, or the ledger's observer. */
  readonly hook: string;

  constructor(hook: string, cause: unknown) {
    super(`the ${hook} hook threw; its observation is lost, the data plane goes on: ${String(cause)}`, {
      cause,
    });
    this.hook = hook;
  }
}

/** Where a caller wants ObserverErrors reported (its structured log) instead of as process warnings. */
export type ObserverErrorSink = (error: ObserverError) => void;

/** Where an ObserverError goes by default: a process warning (stderr unless a listener takes it). */
export function warnObserverError(error: ObserverError): void {
  process.emitWarning(error);
}

/** Calls `fn(...args)`, if given, and hands anything it throws to `report` instead of the caller. */
export function tell<A extends unknown[]>(
  hook: string,
  fn: ((...args: A) => void) | undefined,
  args: A,
  report: ObserverErrorSink = warnObserverError,
): void {
  if (fn === undefined) return;
  try {
    fn(...args);
  } catch (error) {
    const failure = new ObserverError(hook, error);
    try {
      report(failure);
    } catch {
      // the sink broke too (a log stream gone): the warning still tells, the data plane goes on
      warnObserverError(failure);
    }
  }
}
