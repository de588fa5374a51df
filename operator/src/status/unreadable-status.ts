// Says that a job's stored status does not read as the API's: a warn log once per job and
// resourceVersion (a reconcile or a scrape of the same object again stays quiet), and the texts the
// reconciler's Event and the webhook's warning carry (ADR 0023, amendment 5).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import { issuesText, type StatusIssue } from "./stored-status.js";

/** The reason of the Warning Event on the job. */
export const STATUS_UNREADABLE = "StatusUnreadable";

/** What the operator does with such a status, in the log, the Event and the docs. */
export const UNREADABLE_ACTION =
  "the operator keeps the fields that read and writes the others again from the job's progress (its pods and event stream)";

/** Issues named in one Event or warning; the rest are counted. */
const NAMED = 4;

/** The issues, at most NAMED of them, as one line. */
export function shortIssues(issues: readonly StatusIssue[]): string {
  const rest = issues.length - NAMED;
  return `${issuesText(issues.slice(0, NAMED))}${rest > 0 ? ` and ${rest} more` : ""}`;
}

/** The Warning Event's message. */
export function unreadableEventMessage(issues: readonly StatusIssue[]): string {
  return `the stored status does not read as this operator's API (${shortIssues(issues)}); ${UNREADABLE_ACTION}`;
}

export class UnreadableStatusLog {
  /** The resourceVersion last logged, by job uid: one entry per job, dropped when it is deleted. */
  private readonly logged = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  /** Logs at warn, unless this job was logged at this resourceVersion; true when it logged. */
  report(job: KubernetesObject, issues: readonly StatusIssue[]): boolean {
    const m = job.metadata ?? {};
    const id = m.uid ?? `${m.namespace}/${m.name}`;
    const version = m.resourceVersion ?? "";
    if (this.logged.get(id) === version) return false;
    this.logged.set(id, version);
    this.log.warn(`stored status does not read as this operator's API; ${UNREADABLE_ACTION}`, {
      namespace: m.namespace,
      job: m.name,
      resourceVersion: version,
      issues,
    });
    return true;
  }

  forget(uid: string): void {
    this.logged.delete(uid);
  }
}
