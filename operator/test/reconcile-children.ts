// The children one reconcile renders for a job, by the pure steps reconcile-job.ts takes: the clients'
// restart plans, the lifecycle, then desiredChildren (no grace for running pods: no `now` passed on).
import type { V1Pod, V1Deployment } from "@kubernetes/client-node";
import type { SFPromptJob, Status } from "@sfprompt/api";
import { desiredChildren, type DesiredChildren, type DesiredInput } from "../src/desired/children.js";
import { planClients, type ClientPlan, type RestartPolicy } from "../src/desired/restart-plan.js";
import { DEFAULT_CHILD_SETTINGS } from "../src/desired/settings.js";
import { decideLifecycle, type Lifecycle } from "../src/status/lifecycle.js";
import { refOf } from "./fixtures.js";

export interface ChildrenWorld {
  job: SFPromptJob;
  /** The time the plans and the lifecycle are decided at. */
  now: Date;
  /** The job's last written status. */
  previous?: Status;
  /** The job's client pods as observed. */
  pods?: V1Pod[];
  /** The clients' restart policy; the operator's default when absent. */
  restart?: RestartPolicy;
  recorded?: DesiredInput["recorded"];
  deployment?: V1Deployment;
}

/** What the reconcile applies and keeps for `w.job`, with the plans and the lifecycle it decided them by. */
export function childrenFor(
  w: ChildrenWorld,
): DesiredChildren & { plans: ClientPlan[]; lifecycle: Lifecycle } {
  const { job, now, previous } = w;
  const restart = w.restart ?? DEFAULT_CHILD_SETTINGS.clientRestart;
  const plans = planClients(job.spec.clients.count, w.pods ?? [], restart, now.getTime());
  const lifecycle = decideLifecycle({ job, previous, progress: undefined, plans, now });
  const out = desiredChildren({
    job,
    ref: refOf(job),
    settings: DEFAULT_CHILD_SETTINGS,
    jobKey: "k",
    lifecycle,
    plans,
    ...(w.recorded !== undefined ? { recorded: w.recorded } : {}),
    ...(w.deployment ? { deployment: w.deployment } : {}),
  });
  return { ...out, plans, lifecycle };
}
