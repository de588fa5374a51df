// Kubernetes Events (core/v1) for notable transitions of a job, shown by `kubectl describe sfpj`.
// An event repeated with the same reason and message is sent once, not on every reconcile.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, KIND } from "@sfprompt/api";
import { randomBytes } from "node:crypto";
import type { Logger } from "../log.js";

export type EventType = "Normal" | "Warning";

export interface InvolvedJob {
  namespace: string;
  name: string;
  uid: string;
}

export interface EventRecorder {
  record(job: InvolvedJob, type: EventType, reason: string, message: string): Promise<void>;
  /** Forgets what was sent for a job (it was deleted). */
  forget(uid: string): void;
}

/** A unique event name for `job`: its name (cut so the whole stays within 253 characters) and 16 hex digits. */
export function eventName(job: string): string {
  return `${job.slice(0, 253 - 17).replace(/[-.]+$/, "")}.${randomBytes(8).toString("hex")}`;
}

export function createEventRecorder(kc: KubeConfig, component: string, log: Logger): EventRecorder {
  const core = kc.makeApiClient(CoreV1Api);
  const last = new Map<string, string>();
  return {
    async record(job, type, reason, message) {
      const key = `${job.uid}/${reason}`;
      if (last.get(key) === message) return;
      last.set(key, message);
      const now = new Date();
      try {
        await core.createNamespacedEvent({
          namespace: job.namespace,
          body: {
            // Event names only need to be unique; they are not desired state.
            metadata: { name: eventName(job.name), namespace: job.namespace },
            involvedObject: {
              apiVersion: API_VERSION,
              kind: KIND,
              name: job.name,
              namespace: job.namespace,
              uid: job.uid,
            },
            type,
            reason,
            message,
            source: { component },
            reportingComponent: component,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        });
      } catch (err) {
        // An event that cannot be written must not fail the reconcile that wanted to report it.
        log.warn("could not record event", { namespace: job.namespace, job: job.name, reason, err });
      }
    },
    forget(uid) {
      for (const k of last.keys()) if (k.startsWith(`${uid}/`)) last.delete(k);
    },
  };
}
