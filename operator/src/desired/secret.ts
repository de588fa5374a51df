// The Secret with the job's transport credentials. Its one generated value, the job key, is made once
// by the caller and then carried over from the existing Secret (docs/adr: job credentials), so the
// desired object stays a pure function of what is observed.
import type { V1Secret } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { childLabels, childNames } from "../names.js";
import { ownerReference, type JobRef } from "./owner.js";

export const JOB_KEY = "job-key";
export const URL_KEY = "url";

/** The job key held by an existing Secret (base64 in `data`), if it has a usable one. */
export function existingJobKey(secret: V1Secret | undefined): string | undefined {
  const raw = secret?.data?.[JOB_KEY];
  if (!raw) return undefined;
  const key = Buffer.from(raw, "base64").toString("utf8");
  return /^[0-9a-f]{64}$/.test(key) ? key : undefined;
}

/** A fresh 256-bit job key (hex). Called only when no Secret holds one yet. */
export function generateJobKey(): string {
  return randomBytes(32).toString("hex");
}

export function desiredSecret(ref: JobRef, natsUrl: string, jobKey: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: childNames(ref.name).secret,
      namespace: ref.namespace,
      labels: childLabels(ref.name, "credentials"),
      ownerReferences: [ownerReference(ref)],
    },
    // `data`, not `stringData`: the API server stores stringData as data, so applying stringData
    // would look like a change on every reconcile.
    data: {
      [URL_KEY]: Buffer.from(natsUrl).toString("base64"),
      [JOB_KEY]: Buffer.from(jobKey).toString("base64"),
    },
  };
}
