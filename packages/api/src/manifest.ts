// Reads SFPromptJob manifests from YAML (the same files `kubectl apply -f` takes) for `sfprompt run`.
import yaml from "js-yaml";
import { JobValidationError, ManifestError } from "./errors.js";
import { API_VERSION, KIND, type SFPromptJob } from "./job.js";
import { parseJob } from "./parse.js";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What a document that is no mapping is, for the error: "a list (…)", "the text \"job.yaml\"", "the value 5". */
function shapeOf(doc: unknown): string {
  if (Array.isArray(doc)) return "a list (its lines start with '- ')";
  const text = String(doc);
  if (typeof doc !== "string") return `the value ${text}`;
  return `the text ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`;
}

/**
 * The SFPromptJob of a YAML text. Multi-document files may hold other objects (a Secret, a
 * ConfigMap); exactly one SFPromptJob must be among them. Throws ManifestError or JobValidationError.
 */
export function loadJobManifest(yamlText: string): SFPromptJob {
  const jobs = loadJobManifests(yamlText);
  if (jobs.length === 0) {
    throw new ManifestError(`the manifest holds no ${KIND}; its documents need kind: ${KIND}`);
  }
  if (jobs.length > 1) {
    throw new ManifestError(`the manifest holds ${jobs.length} ${KIND}s; keep one per file for sfprompt run`);
  }
  return jobs[0] as SFPromptJob;
}

/** Every SFPromptJob of a (multi-document) YAML text, validated and defaulted, in document order. */
export function loadJobManifests(yamlText: string): SFPromptJob[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(yamlText);
  } catch (cause) {
    throw new ManifestError(`the manifest is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const jobs: SFPromptJob[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    if (!isObject(doc))
      throw new ManifestError(
        `document ${i + 1} is ${shapeOf(doc)}, not a mapping; each document of a manifest is one object, ` +
          "with apiVersion, kind, metadata and spec at its top level",
      );
    if (doc.kind !== KIND) return;
    if (doc.apiVersion !== API_VERSION) {
      throw new ManifestError(
        `document ${i + 1}: apiVersion is ${JSON.stringify(doc.apiVersion)}; ${KIND} needs apiVersion: ${API_VERSION}`,
      );
    }
    const r = parseJob(doc);
    if (!r.ok) {
      const name = isObject(doc.metadata) ? String(doc.metadata.name) : "?";
      throw new JobValidationError(r.errors, {
        cause: new ManifestError(`document ${i + 1} (${KIND} ${name}) is invalid`),
      });
    }
    jobs.push(r.value);
  });
  return jobs;
}
