// Where a run-config field came from in the SFPromptJob: the operator renders the run config from
// the job (toRunConfig), so a field its author wrote is named in logs as they wrote it.

/** Run-config sections made from the spec's section of the same name, field by field. */
const FROM_SPEC = [
  "method",
  "model",
  "prompts",
  "classes",
  "data",
  "clients",
  "server",
  "training",
  "compression",
  "transport",
  "output",
];

/** Run-config fields made from a job field of another name. */
const RENAMED: Readonly<Record<string, string>> = {
  "transport.bundled": "spec.transport.url",
  "output.resumeFrom.token": "spec.output.resumeFrom.job",
  "job.name": "metadata.name",
  "job.namespace": "metadata.namespace",
  "job.uid": "metadata.uid",
};

/**
 * The job's field (`spec.…`, or `metadata.…` for its name and namespace) that the run-config field
 * `path` (dotted, as a ConfigFileError names it) was made from; undefined for what the operator
 * derives (`names.…`, `effective.…`, the version and kind) and for paths that are no run-config field.
 */
export function specFieldOf(path: string): string | undefined {
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n--) {
    const renamed = RENAMED[parts.slice(0, n).join(".")];
    if (renamed !== undefined) return [renamed, ...parts.slice(n)].join(".");
  }
  return FROM_SPEC.includes(parts[0]!) ? `spec.${path}` : undefined;
}
