// What computeStatus reads of a reconcile (StatusInput) and the shape of the status it writes
// (StatusWrite); shared by the modules that compute the status's parts.
import type { KubernetesObject, V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { SFPromptJob, StatusSchema } from "@sfprompt/api";
import type { z } from "zod";
import type { ClientPlan } from "../desired/restart-plan.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import type { Lifecycle } from "./lifecycle.js";

export interface StatusInput {
  job: SFPromptJob;
  lifecycle: Lifecycle;
  deployment: V1Deployment | undefined;
  /** The server Deployment's pods (not the job's own children: a ReplicaSet controls them). */
  serverPods?: readonly V1Pod[];
  plans: readonly ClientPlan[];
  progress: ProgressSnapshot | undefined;
  now: Date;
  /** The NATS URL the job uses now (spec.transport.url or the operator's), added to status.natsUrls. */
  natsUrl?: string;
  /** Why a child could not be applied in this reconcile, if it could not. */
  rejected?: { reason: string; message: string };
  /** Why the spec's last edit is held (not applied to the children), if it is. */
  held?: { reason: string; message: string };
  /** The children as desired now: running client pods are compared with them (ClientsConfigCurrent). */
  desired?: readonly KubernetesObject[];
  /** What client pods are made from now (desiredChildren's clientRevision); not written once finished. */
  clientRevision?: string;
  /**
   * training.rounds of the run config a finished job's ConfigMap kept (one that records the finish):
   * the rounds it ran with, where the status lost them (ADR 0034, amendment 4).
   */
  ranWithRounds?: number | undefined;
  /** The round a finished job's outcome record kept, if it has one (ADR 0034, amendment 8). */
  recordedRound?: number | undefined;
}

/** A status as written: fields with CRD defaults may be left out (the API server fills them in). */
export type StatusWrite = z.input<typeof StatusSchema>;
