// What a finished job's spec that no longer reads still gives for reading its lost outcome back from
// its event stream: only the job's name is needed for the stream, and of the spec the NATS URL where
// that field reads, and spec.output.resumeFrom for the Failed condition's advice (ADR 0023, amendment
// 24). Pure.
import type { KubernetesObject } from "@kubernetes/client-node";
import { ResumeFromSchema, TransportSchema, type Output } from "@sfprompt/api";

interface RawSpec {
  transport?: { url?: unknown };
  output?: { resumeFrom?: unknown };
}

const rawSpec = (raw: KubernetesObject): RawSpec => {
  const spec = (raw as { spec?: unknown }).spec;
  return typeof spec === "object" && spec !== null ? (spec as RawSpec) : {};
};

/** spec.transport.url where it reads as the API's, else the operator's NATS (as jobNatsUrl). */
export function rawNatsUrl(raw: KubernetesObject, operatorUrl: string): string {
  const url = TransportSchema.shape.url.safeParse(rawSpec(raw).transport?.url);
  return url.success && url.data !== undefined ? url.data : operatorUrl;
}

/** spec.output.resumeFrom where it reads as the API's. */
export function rawResumeFrom(raw: KubernetesObject): Output["resumeFrom"] {
  const from = ResumeFromSchema.safeParse(rawSpec(raw).output?.resumeFrom);
  return from.success ? from.data : undefined;
}
