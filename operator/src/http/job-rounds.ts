// Read-only views of a job's rounds on the operator's HTTP server: GET /jobs/<namespace>/<name>/
// rounds.json (the per-round history), accuracy.svg and traffic.svg (the charts `sfprompt run` draws).
import { DNS_LABEL, DNS_SUBDOMAIN } from "@sfprompt/api";
import { accuracySvg, trafficSvg, type ChartRun } from "@sfprompt/protocol/charts";
import type { Express, Response } from "express";
import type { RoundRecord } from "../progress/round-history.js";

/** What the operator holds of one job's rounds. */
export interface JobRounds {
  /** spec.method: the charts' line name, as in `sfprompt run`. */
  readonly method: string;
  /** Finished rounds as they stand, ascending. */
  readonly rounds: readonly RoundRecord[];
}

/**
 * The job's rounds; "not-tracked" when this operator does not follow the job (no such job, not yet
 * replayed, or not in a watched namespace); "standby" when this replica does not lead.
 */
export type RoundsLookup = (namespace: string, name: string) => JobRounds | "not-tracked" | "standby";

/** Why a path part is not a Kubernetes name, or undefined when it is one. */
export function badPathPart(namespace: string, name: string): string | undefined {
  if (namespace.length > 63 || !DNS_LABEL.test(namespace))
    return `namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name (a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)`;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    return `name ${JSON.stringify(name)} is not an SFPromptJob name (a DNS-1123 subdomain: at most 253 lower-case letters, digits, '-' and '.')`;
  return undefined;
}

function fail(res: Response, status: number, error: string): void {
  res
    .status(status)
    .type("application/json")
    .send(`${JSON.stringify({ error })}\n`);
}

type View = (res: Response, namespace: string, name: string, job: JobRounds) => void;

const views: Record<string, View> = {
  "rounds.json": (res, namespace, name, job) => {
    const body = { namespace, name, method: job.method, rounds: job.rounds };
    res.type("application/json").send(`${JSON.stringify(body, null, 2)}\n`);
  },
  "accuracy.svg": (res, _namespace, name, job) => {
    res.type("image/svg+xml").send(accuracySvg([chartRun(name, job)]));
  },
  "traffic.svg": (res, _namespace, name, job) => {
    res.type("image/svg+xml").send(trafficSvg([chartRun(name, job)]));
  },
};

function chartRun(name: string, job: JobRounds): ChartRun {
  return { job: name, method: job.method, rounds: job.rounds };
}

/** Mounts GET /jobs/:namespace/:name/{rounds.json,accuracy.svg,traffic.svg} on `app`. */
export function mountJobRounds(app: Express, lookup: RoundsLookup): void {
  app.get("/jobs/:namespace/:name/:view", (req, res) => {
    const { namespace, name, view } = req.params;
    const render = Object.hasOwn(views, view) ? views[view] : undefined;
    if (!render)
      return fail(res, 404, `no view ${JSON.stringify(view)}: use rounds.json, accuracy.svg or traffic.svg`);
    const bad = badPathPart(namespace, name);
    if (bad) return fail(res, 400, bad);
    const job = lookup(namespace, name);
    if (job === "standby")
      return fail(
        res,
        503,
        `this operator replica is a standby and follows no job; ask the leader (the pod holding the operator's Lease: kubectl get lease in the operator's namespace) for ${namespace}/${name}`,
      );
    if (job === "not-tracked")
      return fail(
        res,
        404,
        `job ${namespace}/${name} is not tracked: no SFPromptJob of that name in a watched namespace, or its progress stream is not replayed yet; check kubectl get sfpromptjob -n ${namespace} ${name}`,
      );
    render(res, namespace, name, job);
  });
}
