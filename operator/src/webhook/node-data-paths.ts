// Folder and JSONL data of a job on a cluster lie on the nodes: the pods mount them from there
// (a hostPath at the same path, desired/pod-parts.ts), which must be absolute. The API server takes a
// relative one and the container then cannot start, so the webhook refuses it when the job is created,
// and an update that starts mounting one (evaluation turned on: spec.data.evalSource).
import type { FieldError, SFPromptJob } from "@sfprompt/api";

type Spec = SFPromptJob["spec"];

/** The folder/JSONL paths the job's pods would mount that are not absolute, as field errors. */
export function relativeNodeDataPaths(spec: Spec): FieldError[] {
  const mounted = [["source", spec.data.source, "client"] as const];
  const errors: FieldError[] = [];
  const evaluates = spec.training.evaluation.everyRounds > 0;
  const sources = evaluates ? [...mounted, ["evalSource", spec.data.evalSource, "server"] as const] : mounted;
  for (const [key, source, pods] of sources) {
    const [kind, path] = source?.jsonl
      ? (["jsonl", source.jsonl.path] as const)
      : source?.imageFolder
        ? (["imageFolder", source.imageFolder.path] as const)
        : [];
    if (path === undefined || path.startsWith("/")) continue;
    errors.push({
      path: `spec.data.${key}.${kind}.path`,
      message:
        `is ${JSON.stringify(path)}, a relative path; the ${pods} pods mount it from their node, which takes ` +
        "an absolute path: give where it lies on the node, e.g. /srv/sfprompt/… (a relative path works " +
        "with sfprompt run only, taken from its current folder)",
    });
  }
  return errors;
}

/**
 * The relative paths `spec` mounts that `oldSpec` (the stored job's, undefined when it no longer
 * parses) did not: an update is refused for these only, never for a path its job was stored with.
 */
export function newlyMountedRelativePaths(oldSpec: Spec | undefined, spec: Spec): FieldError[] {
  if (oldSpec === undefined) return [];
  const before = new Set(relativeNodeDataPaths(oldSpec).map((e) => e.path));
  return relativeNodeDataPaths(spec).filter((e) => !before.has(e.path));
}
