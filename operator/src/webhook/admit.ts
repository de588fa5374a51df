// The webhook's decisions, as pure functions of an AdmissionReview request: validation and
// defaulting with the same zod schema that generates the CRD (@sfprompt/api).
import { isDeepStrictEqual } from "node:util";
import { parseJob, parseSpec, type FieldError, type SFPromptJob } from "@sfprompt/api";
import { roundsConflict, roundsRefusal } from "../status/checkpoint-rounds.js";
import { hasFinished } from "../status/lifecycle.js";
import { readStoredStatus, usableStatus } from "../status/stored-status.js";
import type { Status } from "@sfprompt/api";
import {
  allow,
  denyBadRequest,
  denyFields,
  type AdmissionRequest,
  type AdmissionResponse,
} from "./admission-review.js";
import { editWarnings, unreadableStatusWarnings } from "./edit-warnings.js";
import { immutableChanges } from "./immutable-fields.js";
import { defaultsPatch } from "./json-patch.js";
import { newlyMountedRelativePaths, relativeNodeDataPaths } from "./node-data-paths.js";

interface ObjectLike {
  metadata?: { name?: string; generateName?: string; deletionTimestamp?: string };
  spec?: unknown;
  status?: unknown;
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

type Spec = SFPromptJob["spec"];

/**
 * spec.training.rounds lowered (or output.resume turned on) below the round of the job's newest
 * checkpoint, which its server could not resume from (ADR 0039); the status is the operator's, so a
 * checkpoint it has not written yet is the reconciler's to catch. An edit that leaves both alone passes.
 */
function roundsErrors(status: Status | undefined, oldSpec: Spec | undefined, spec: Spec): FieldError[] {
  if (
    oldSpec &&
    oldSpec.training.rounds === spec.training.rounds &&
    oldSpec.output.resume === spec.output.resume
  )
    return [];
  if (status === undefined || hasFinished(status)) return [];
  const conflict = roundsConflict(spec, status.lastCheckpoint?.round);
  return conflict ? [{ path: "spec.training.rounds", message: roundsRefusal(conflict) }] : [];
}

/**
 * Allows valid jobs; denies invalid ones naming every bad field, changes of immutable fields, and
 * rounds the job's newest checkpoint cannot resume under. An allowed update the job will not act on
 * in full (finished, or running client pods left on the old spec) carries warnings saying so.
 */
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
  if (!old) {
    const relative = relativeNodeDataPaths(parsed.value.spec);
    return relative.length > 0 ? denyFields(req.uid, relative) : allow(req.uid);
  }
  // Compare defaulted specs, so that writing out a default is no change; a stored spec that no
  // longer parses is compared as written.
  const oldParsed = parseSpec(old.spec ?? {});
  const changed = oldParsed.ok
    ? immutableChanges(oldParsed.value, parsed.value.spec)
    : immutableChanges(old.spec, obj.spec);
  if (changed.length > 0) return denyFields(req.uid, changed, "Forbidden");
  const oldSpec = oldParsed.ok ? oldParsed.value : undefined;
  // spec.data cannot change, but spec.training.evaluation can: turning evaluation on makes the server
  // pod mount spec.data.evalSource. Only a path this update starts mounting is refused, so a stored
  // job whose paths predate the check stays editable (ADR 0010, amendment 3).
  const relative = newlyMountedRelativePaths(oldSpec, parsed.value.spec);
  if (relative.length > 0) return denyFields(req.uid, relative);
  // An unreadable stored status is the operator's to replace, not the user's to fix: the edit is
  // checked against the fields that read, as the reconciler builds on them, and says so (ADR 0023,
  // amendment 5).
  const stored = readStoredStatus(old);
  const status = usableStatus(stored);
  const rounds = roundsErrors(status, oldSpec, parsed.value.spec);
  if (rounds.length > 0) return denyFields(req.uid, rounds);
  const warnings = [
    ...(stored.readable ? [] : unreadableStatusWarnings(stored.issues)),
    ...editWarnings({ job: parsed.value, oldSpec, status }),
  ];
  return allow(req.uid, warnings.length > 0 ? { warnings } : {});
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `spec` with the stored job's spec.data.partitioning.strategy where the update leaves it unset. The
 * CRD defaulted it to iid until 2026-11-29 (ADR 0005, amendments 2 and 3), so a job created then holds
 * iid that its manifest does not say; a full replace with that manifest would remove it, a change of
 * the immutable spec.data. spec.data cannot change, so the stored value is the only one an update can
 * have: it is kept, as the older CRD's default kept it. A strategy the update sets is its own.
 */
function withStoredStrategy(spec: unknown, oldSpec: unknown): unknown {
  const stored = isRecord(oldSpec) && isRecord(oldSpec.data) ? oldSpec.data.partitioning : undefined;
  const strategy = isRecord(stored) ? stored.strategy : undefined;
  if (strategy === undefined || !isRecord(spec) || !isRecord(spec.data)) return spec;
  const partitioning = spec.data.partitioning ?? {};
  if (!isRecord(partitioning) || partitioning.strategy !== undefined) return spec;
  return { ...spec, data: { ...spec.data, partitioning: { ...partitioning, strategy } } };
}

/**
 * Fills in the spec's defaults as a JSON Patch. An invalid spec is left alone: the validating
 * webhook (and the CRD schema) refuse it with the field named.
 */
export function defaultJob(req: AdmissionRequest): AdmissionResponse {
  if (req.operation !== "CREATE" && req.operation !== "UPDATE") return allow(req.uid);
  const obj = asObject(req.object);
  if (!obj) return denyBadRequest(req.uid, "request.object must be an SFPromptJob object");
  const old = req.operation === "UPDATE" ? asObject(req.oldObject) : undefined;
  const parsed = parseSpec(withStoredStrategy(obj.spec ?? {}, old?.spec));
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
