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

export type RequestOp =
  "poll" | "report" | "params-global" | "params-upload" | "body-forward" | "body-backward";

export const REQUEST_OPS: readonly RequestOp[] = [
  "poll",
  "report",
  "params-global",
  "params-upload",
  "body-forward",
  "body-backward",
];

/**
 * Told of every data-plane request a client made (its latency, retries included) or a server
 * answered (its handling time), with the request's operation and outcome.
 */
export type RequestObserver = (op: RequestOp, seconds: number, outcome: RequestOutcome) => void;

/**
 * The operation of a request on `subject` of `job`, undefined for a subject that is none of the job's
 * request subjects. On `round.report`, a poll says `op: "poll"` in its meta; anything else there
 * (a state report, or a frame too broken to read) is a report.
 */
export function requestOpOf(
  job: string,
  subject: string,
  meta: FrameMeta | undefined,
): RequestOp | undefined {
  return opOf(jobSubjects(job), subject, meta);
}

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

/** The requester's `observe` option for a client's requests on `job`'s subjects. */
export function observeRequests(
  job: string,
  observer: RequestObserver | undefined,
): Pick<RequestOptions, "observe"> {
  if (observer === undefined) return {};
  const s = jobSubjects(job);
  return {
    observe: (r) => {
      const op = opOf(s, r.subject, r.meta);
      if (op !== undefined) observer(op, r.seconds, r.outcome);
    },
  };
}

/** The responder's `observe` option for a server's services on `job`'s subjects. */
export function observeResponses(
  job: string,
  observer: RequestObserver | undefined,
): Pick<ResponderOptions, "observe"> {
  if (observer === undefined) return {};
  const s = jobSubjects(job);
  return {
    observe: (r) => {
      const op = opOf(s, r.subject, r.request?.meta);
      if (op !== undefined) observer(op, r.seconds, r.outcome);
    },
  };
}
