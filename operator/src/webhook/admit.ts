// The webhook's decisions, as pure functions of an AdmissionReview request: validation and
// defaulting with the same zod schema that generates the CRD (@sfprompt/api).
import { isDeepStrictEqual } from "node:util";
import { parseJob, parseSpec } from "@sfprompt/api";
import {
  allow,
  denyBadRequest,
  denyFields,
  type AdmissionRequest,
  type AdmissionResponse,
} from "./admission-review.js";
import { immutableChanges } from "./immutable-fields.js";
import { defaultsPatch } from "./json-patch.js";

interface ObjectLike {
  metadata?: { name?: string; generateName?: string; deletionTimestamp?: string };
  spec?: unknown;
}

function asObject(value: unknown): ObjectLike | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as ObjectLike)
    : undefined;
}

// A generateName'd object may reach admission before its name exists; validate a stand-in name.
function forValidation(obj: ObjectLike): Record<string, unknown> {
  const meta = obj.metadata ?? {};
  const name = meta.name || (meta.generateName ? `${meta.generateName}x` : undefined);
  // status is the operator's (written through /status, which this webhook does not see).
  return { ...obj, metadata: { ...meta, name }, status: undefined };
}

/** Allows valid jobs; denies invalid ones naming every bad field, and changes of immutable fields. */
export function validateJob(req: AdmissionRequest): AdmissionResponse {
  if (req.operation === "DELETE" || req.operation === "CONNECT") return allow(req.uid);
  const obj = asObject(req.object);
  if (!obj) return denyBadRequest(req.uid, "request.object must be an SFPromptJob object");
  const old = req.operation === "UPDATE" ? asObject(req.oldObject) : undefined;
  // Metadata-only updates (finalizers, labels) and deletion always pass: a job whose stored spec
  // predates a stricter rule must still be deletable.
  if (old && (obj.metadata?.deletionTimestamp || isDeepStrictEqual(old.spec, obj.spec)))
    return allow(req.uid);
  const parsed = parseJob(forValidation(obj));
  if (!parsed.ok) return denyFields(req.uid, parsed.errors);
  if (!old) return allow(req.uid);
  // Compare defaulted specs, so that writing out a default is no change; a stored spec that no
  // longer parses is compared as written.
  const oldParsed = parseSpec(old.spec ?? {});
  const changed = oldParsed.ok
    ? immutableChanges(oldParsed.value, parsed.value.spec)
    : immutableChanges(old.spec, obj.spec);
  return changed.length > 0 ? denyFields(req.uid, changed, "Forbidden") : allow(req.uid);
}

/**
 * Fills in the spec's defaults as a JSON Patch. An invalid spec is left alone: the validating
 * webhook (and the CRD schema) refuse it with the field named.
 */
export function defaultJob(req: AdmissionRequest): AdmissionResponse {
  if (req.operation !== "CREATE" && req.operation !== "UPDATE") return allow(req.uid);
  const obj = asObject(req.object);
  if (!obj) return denyBadRequest(req.uid, "request.object must be an SFPromptJob object");
  const parsed = parseSpec(obj.spec ?? {});
  if (!parsed.ok) return allow(req.uid);
  const defaulted: unknown = JSON.parse(JSON.stringify(parsed.value));
  const ops =
    obj.spec === undefined || obj.spec === null
      ? [{ op: "add", path: "/spec", value: defaulted }]
      : defaultsPatch(obj.spec, defaulted, "/spec");
  if (ops.length === 0) return allow(req.uid);
  return allow(req.uid, {
    patchType: "JSONPatch",
    patch: Buffer.from(JSON.stringify(ops)).toString("base64"),
  });
}
