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

/** One object of a manifest and where it stands: "document 2", or "document 1's items[0]" in a List. */
interface ManifestObject {
  readonly where: string;
  readonly object: Record<string, unknown>;
}

/**
 * Whether a document is a list of objects as kubectl apply takes it: `kind: List` (what
 * `kubectl get … -o yaml` writes) or the API's own SFPromptJobList, with an `items` list.
 */
function isList(doc: Record<string, unknown>): doc is Record<string, unknown> & { items: unknown[] } {
  return (doc.kind === "List" || doc.kind === `${KIND}List`) && Array.isArray(doc.items);
}

/** The objects of the documents, in order, a List's items in its place. Throws on a non-mapping. */
function objectsOf(docs: readonly unknown[]): ManifestObject[] {
  const objects: ManifestObject[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    if (!isObject(doc))
      throw new ManifestError(
        `document ${i + 1} is ${shapeOf(doc)}, not a mapping; each document of a manifest is one object, ` +
          "with apiVersion, kind, metadata and spec at its top level",
      );
    // an empty List (kubectl get -o yaml matching no job) stands as itself, for kindsFound to name
    if (!isList(doc) || doc.items.length === 0) {
      objects.push({ where: `document ${i + 1}`, object: doc });
      return;
    }
    doc.items.forEach((item, j) => {
      const where = `document ${i + 1}'s items[${j}]`;
      if (!isObject(item))
        throw new ManifestError(
          `${where} is ${shapeOf(item)}, not a mapping; each item of a List is one object, ` +
            "with apiVersion, kind, metadata and spec",
        );
      objects.push({ where, object: item });
    });
  });
  return objects;
}

/** "document 1: kind SFPromptJobs, document 2: no kind" (the first few), for a manifest with no job. */
function kindsFound(objects: readonly ManifestObject[]): string {
  const shown = objects.slice(0, 4).map(({ where, object }) => {
    const kind = object.kind;
    if (isList(object))
      return `${where}: kind ${JSON.stringify(kind)} with no items: the kubectl get that wrote it found no job; check its namespace, -n, or selector`;
    return `${where}: ${kind === undefined ? "no kind" : `kind ${JSON.stringify(kind)}`}`;
  });
  if (objects.length > shown.length) shown.push(`${objects.length - shown.length} more`);
  return shown.join(", ");
}

/**
 * The SFPromptJob of a YAML text. Multi-document files may hold other objects (a Secret, a
 * ConfigMap), and a List's items count as documents; exactly one SFPromptJob must be among them.
 * Throws ManifestError (naming the kinds found when there is no job) or JobValidationError.
 */
export function loadJobManifest(yamlText: string): SFPromptJob {
  const { jobs, objects } = readManifest(yamlText);
  if (jobs.length === 0) {
    const found = objects.length === 0 ? "it is empty" : `it holds ${kindsFound(objects)}`;
    throw new ManifestError(
      `the manifest holds no ${KIND} (${found}); a job is a document with apiVersion: ${API_VERSION} and kind: ${KIND}`,
    );
  }
  if (jobs.length > 1) {
    throw new ManifestError(`the manifest holds ${jobs.length} ${KIND}s; keep one per file for sfprompt run`);
  }
  return jobs[0] as SFPromptJob;
}

/**
 * Every SFPromptJob of a (multi-document) YAML text, validated and defaulted, in document order; the
 * items of a List (`kubectl get sfpj -o yaml`) count as documents.
 */
export function loadJobManifests(yamlText: string): SFPromptJob[] {
  return readManifest(yamlText).jobs;
}

function readManifest(yamlText: string): { jobs: SFPromptJob[]; objects: ManifestObject[] } {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(yamlText);
  } catch (cause) {
    throw new ManifestError(`the manifest is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const objects = objectsOf(docs);
  const jobs: SFPromptJob[] = [];
  for (const { where, object } of objects) {
    if (object.kind !== KIND) continue;
    if (object.apiVersion !== API_VERSION) {
      throw new ManifestError(
        `${where}: apiVersion is ${JSON.stringify(object.apiVersion)}; ${KIND} needs apiVersion: ${API_VERSION}`,
      );
    }
    const r = parseJob(object);
    if (!r.ok) {
      const name = isObject(object.metadata) ? String(object.metadata.name) : "?";
      throw new JobValidationError(r.errors, {
        cause: new ManifestError(`${where} (${KIND} ${name}) is invalid`),
      });
    }
    jobs.push(r.value);
  }
  return { jobs, objects };
}
