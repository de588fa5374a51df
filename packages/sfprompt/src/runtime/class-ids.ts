// Class ids of folder and JSONL data a job reads without spec.classes.labels. The readers give a
// class its place among the sorted names of the data at hand; a server's held-out set or a client's
// folder that lacks a class would so give the classes after it other ids than the rest of the job.
import type { RunConfig } from "@sfprompt/api";
import type { Dataset, FeatureArray } from "../datasets/dataset.js";
import { RunConfigError } from "./errors.js";

/** "0", "7", "12": a class named by its id (no sign, no leading zero). */
function isIdName(name: string): boolean {
  return /^(0|[1-9]\d{0,8})$/.test(name);
}

export interface SourceKind {
  /** The data's field and kind, e.g. "spec.data.evalSource (imageFolder /data/eval)". */
  readonly where: string;
  readonly kind: "imageFolder" | "jsonl";
}

/**
 * `ds` with ids every process of the job agrees on, when the job gives no class list: classes named
 * by id ("0".."C-1": folders so named, JSONL integer labels or such strings) keep that id; other names
 * take their sorted place only when the data holds all numClasses of them. Otherwise the job must
 * give spec.classes.labels (RunConfigError). More classes than numClasses are left to checkLabelsFit.
 */
export function agreedClassIds<X extends FeatureArray>(
  config: RunConfig,
  ds: Dataset<X>,
  source: SourceKind,
): Dataset<X> {
  const n = config.classes.numClasses;
  if (config.classes.labels !== undefined) return ds;
  const names = ds.classNames;
  if (names.every(isIdName)) {
    const ids = names.map(Number);
    const count = Math.max(n, ...ids.map((id) => id + 1));
    return {
      ...ds,
      labels: Int32Array.from(ds.labels, (y) => ids[y]!),
      classNames: Array.from({ length: count }, (_, i) => String(i)),
    };
  }
  if (names.length >= n) return ds;
  const byId =
    source.kind === "imageFolder"
      ? `name the class folders by id, 0..${n - 1}`
      : `use integer labels 0..${n - 1}`;
  throw new RunConfigError(
    "spec.classes.labels",
    `is not set, and ${source.where} holds ${names.length} classes [${names.join(", ")}] for spec.classes.numClasses ${n}: ` +
      "without a class list a class's id is its place among the sorted names of the data at hand, which differs " +
      `between a client's data and the server's when one lacks a class; set spec.classes.labels to the ${n} class names in id order (or ${byId})`,
  );
}
