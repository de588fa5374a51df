// The admission.k8s.io/v1 AdmissionReview envelope: reading a request the API server sent, and
// writing the response it expects (same apiVersion/kind, the request's uid echoed).
import { z } from "zod";
import type { FieldError } from "@sfprompt/api";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

const RequestSchema = z.looseObject({
  uid: z.string().min(1),
  operation: z.enum(["CREATE", "UPDATE", "DELETE", "CONNECT"]),
  namespace: z.string().optional(),
  name: z.string().optional(),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
  dryRun: z.boolean().optional(),
});

const ReviewSchema = z.looseObject({
  apiVersion: z.literal(ADMISSION_API_VERSION),
  kind: z.literal("AdmissionReview"),
  request: RequestSchema,
});

export type AdmissionRequest = z.infer<typeof RequestSchema>;

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: {
    code: number;
    reason: string;
    message: string;
    details?: { causes: { field: string; message: string; reason: string }[] };
  };
  patchType?: "JSONPatch";
  /** Base64 of the JSON Patch (RFC 6902) text. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

/** The body is not an AdmissionReview request; the HTTP layer answers 400 with this message. */
export class AdmissionReviewError extends Error {
  override readonly name = "AdmissionReviewError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Reads an AdmissionReview request; throws AdmissionReviewError naming what is missing. */
export function readReview(body: unknown): AdmissionRequest {
  const r = ReviewSchema.safeParse(body);
  if (r.success) return r.data.request;
  const first = r.error.issues[0];
  const where = first && first.path.length > 0 ? first.path.join(".") : "body";
  throw new AdmissionReviewError(
    `expected an ${ADMISSION_API_VERSION} AdmissionReview with request.uid and request.operation; ${where}: ${first?.message ?? "invalid"}`,
    { cause: r.error },
  );
}

export function review(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
}

export function allow(uid: string, extra: Partial<AdmissionResponse> = {}): AdmissionResponse {
  return { uid, allowed: true, ...extra };
}

/** A denial whose message names each field, e.g. `spec.training.rounds: must be ≥ 1 (got 0)`. */
export function denyFields(
  uid: string,
  errors: readonly FieldError[],
  reason = "Invalid",
): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: {
      code: reason === "Forbidden" ? 403 : 422,
      reason,
      message: errors.map((e) => `${e.path}: ${e.message}`).join("; "),
      details: {
        causes: errors.map((e) => ({
          field: e.path,
          message: e.message,
          reason: reason === "Forbidden" ? "FieldValueForbidden" : "FieldValueInvalid",
        })),
      },
    },
  };
}

/** A denial for an object that is not an SFPromptJob at all (wrong shape, not a mapping). */
export function denyBadRequest(uid: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code: 400, reason: "BadRequest", message } };
}
