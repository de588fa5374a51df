// Builders for test fixtures: SFPromptJob objects (raw and defaulted), pods in a given phase.
import type { V1Pod } from "@kubernetes/client-node";
import { API_VERSION, KIND, applyDefaults, type SFPromptJob, type SFPromptJobInput } from "@sfprompt/api";
import { ANNOTATION_RESTARTS, LABEL_CLIENT_INDEX } from "../src/names.js";
import type { JobRef } from "../src/desired/owner.js";

export type SpecInput = NonNullable<SFPromptJobInput["spec"]>;

/** A raw job manifest as a user would write it. */
export function jobManifest(name: string, spec: SpecInput = {}, namespace = "default"): SFPromptJobInput {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec };
}

/** The same job validated and defaulted, with a uid and generation as the API server would give. */
export function job(name: string, spec: SpecInput = {}, namespace = "default"): SFPromptJob {
  const raw = jobManifest(name, spec, namespace);
  return applyDefaults({ ...raw, metadata: { ...raw.metadata, uid: `uid-${name}`, generation: 1 } });
}

export function refOf(j: SFPromptJob): JobRef {
  return { name: j.metadata.name, namespace: j.metadata.namespace ?? "default", uid: j.metadata.uid ?? "" };
}

export interface PodOptions {
  index: number;
  attempt?: number;
  phase?: "Pending" | "Running" | "Succeeded" | "Failed";
  /** When its container finished (for Failed pods). */
  finishedAt?: Date;
  node?: string;
}

/** A client pod as the API server would show it after a kubelet reported `phase`. */
export function clientPod(o: PodOptions): V1Pod {
  const attempt = o.attempt ?? 0;
  return {
    metadata: {
      name: `demo-client-${o.index}${attempt > 0 ? `-r${attempt}` : ""}`,
      labels: { [LABEL_CLIENT_INDEX]: String(o.index) },
      annotations: { [ANNOTATION_RESTARTS]: String(attempt) },
      creationTimestamp: new Date("2026-01-01T00:00:00Z"),
    },
    spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? "Pending",
      ...(o.finishedAt
        ? {
            containerStatuses: [
              {
                name: "client",
                image: "x",
                imageID: "",
                ready: false,
                restartCount: 0,
                state: { terminated: { exitCode: 1, finishedAt: o.finishedAt } },
              },
            ],
          }
        : {}),
    },
  };
}
