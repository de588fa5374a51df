// The operations a job's data-plane requests are observed under (sfprompt_request_duration_seconds'
// `op` label): one fixed value per request subject of the job, the round report split into the
// clients' polls (held by the server up to its poll wait) and their state reports.
import {
  jobSubjects,
  type FrameMeta,
  type JobSubjects,
  type RequestOptions,
  type RequestOutcome,
  type ResponderOptions,
} from "@sfprompt/protocol";

export const REQUEST_OPS = [
  "poll",
  "report",
  "params-global",
  "params-upload",
  "body-forward",
  "body-backward",
] as const;

export type RequestOp = (typeof REQUEST_OPS)[number];

/**
 * Told of every data-plane request a client made (its latency, retries included) or a server
 * answered (its handling time), with the request's operation and outcome.
 */
export type RequestObserver = (op: RequestOp, seconds: number, outcome: RequestOutcome) => void;

/**
 * The operation of a request on one of the job's subjects `s`, undefined for a subject that is none of
 * its request subjects. On `round.report`, a poll says `op: "poll"` in its meta; anything else there
 * (a state report, or a frame too broken to read) is a report.
 */
function opOf(s: JobSubjects, subject: string, meta: FrameMeta | undefined): RequestOp | undefined {
  switch (subject) {
    case s.roundReport:
      return meta?.op === "poll" ? "poll" : "report";
    case s.paramsGlobal:
      return "params-global";
    case s.paramsUpload:
      return "params-upload";
    case s.bodyForward:
      return "body-forward";
    case s.bodyBackward:
      return "body-backward";
    default:
      return undefined;
  }
}

/** `observer` as a data-plane `observe` hook on `job`'s subjects: `metaOf` finds the request's meta. */
function observeOps<T extends { subject: string; seconds: number; outcome: RequestOutcome }>(
  job: string,
  observer: RequestObserver,
  metaOf: (seen: T) => FrameMeta | undefined,
): (seen: T) => void {
  const s = jobSubjects(job);
  return (seen) => {
    const op = opOf(s, seen.subject, metaOf(seen));
    if (op !== undefined) observer(op, seen.seconds, seen.outcome);
  };
}

/** The requester's `observe` option for a client's requests on `job`'s subjects. */
export function observeRequests(
  job: string,
  observer: RequestObserver | undefined,
): Pick<RequestOptions, "observe"> {
  return observer === undefined ? {} : { observe: observeOps(job, observer, (r) => r.meta) };
}

/** The responder's `observe` option for a server's services on `job`'s subjects. */
export function observeResponses(
  job: string,
  observer: RequestObserver | undefined,
): Pick<ResponderOptions, "observe"> {
  return observer === undefined ? {} : { observe: observeOps(job, observer, (r) => r.request?.meta) };
}
