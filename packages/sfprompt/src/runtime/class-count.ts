// Whether a job's data fits its classifier: every label below spec.classes.numClasses. Training meets
// a label beyond it only mid-round (a TrainingArgumentError in a client); this says it at the start:
// from a built-in set's known classes without reading it (`sfprompt run`, before any process), and
// from the labels of data a process has loaded (the images, before they report ready).
import type { RunConfig } from "@sfprompt/api";
import type { Dataset } from "../datasets/dataset.js";
import { DEBIAN_SECTIONS_CLASSES } from "../datasets/debian-sections.js";
import { FASHION_MNIST_CLASSES } from "../datasets/fashion-mnist.js";
import { MNIST_CLASSES } from "../datasets/mnist.js";

/** The job field that says how many classes the classifier predicts. */
export const CLASS_COUNT_FIELD = "spec.classes.numClasses";

type Builtin = NonNullable<RunConfig["data"]["source"]["builtin"]>;

/** The classes of each built-in set, in label order (labels are their indices). */
const BUILTIN_CLASSES: Readonly<Record<Builtin, readonly string[]>> = {
  mnist: MNIST_CLASSES,
  digits: MNIST_CLASSES,
  "fashion-mnist": FASHION_MNIST_CLASSES,
  "debian-sections": DEBIAN_SECTIONS_CLASSES,
};

/** The data holds a label that spec.classes.numClasses leaves out. */
export class ClassCountError extends Error {
  override readonly name = "ClassCountError";
  readonly field = CLASS_COUNT_FIELD;
  constructor(
    /** What is wrong, without the field: "is 5, but spec.data.source … holds label 9 …". */
    readonly detail: string,
  ) {
    super(`${CLASS_COUNT_FIELD}: ${detail}`);
  }
}

interface LargestLabel {
  /** The data's field, e.g. "spec.data.source (builtin: mnist)". */
  readonly source: string;
  readonly label: number;
  /** Its class name, when the data names its classes. */
  readonly name: string | undefined;
  /** How many classes the data has (at least label + 1). */
  readonly classes: number;
}

function check(config: RunConfig, l: LargestLabel): void {
  const n = config.classes.numClasses;
  if (l.label < n) return;
  const named = l.name === undefined ? "" : ` ("${l.name}")`;
  throw new ClassCountError(
    `is ${n}, but ${l.source} holds label ${l.label}${named}, of ${l.classes} classes: the classifier predicts labels 0..${n - 1} only; set numClasses to ${l.classes} (or more), or use data whose labels are below ${n}`,
  );
}

/**
 * Throws ClassCountError when a built-in data source of the job (spec.data.source,
 * spec.data.evalSource) has more classes than spec.classes.numClasses; reads no data.
 */
export function checkBuiltinClasses(config: RunConfig): void {
  const sources: Array<[RunConfig["data"]["source"] | undefined, string]> = [
    [config.data.source, "spec.data.source"],
    [config.data.evalSource, "spec.data.evalSource"],
  ];
  for (const [s, field] of sources) {
    if (s?.builtin === undefined) continue;
    const classes = BUILTIN_CLASSES[s.builtin];
    const label = classes.length - 1;
    check(config, {
      source: `${field} (builtin: ${s.builtin})`,
      label,
      name: classes[label],
      classes: classes.length,
    });
  }
}

/** Throws ClassCountError when `data` (loaded from the job's `field`) holds a label ≥ numClasses. */
export function checkLabelsFit(config: RunConfig, data: Dataset, field: string): void {
  let label = -1;
  for (const y of data.labels) if (y > label) label = y;
  if (label < 0) return;
  check(config, {
    source: field,
    label,
    name: data.classNames[label],
    classes: Math.max(data.classNames.length, label + 1),
  });
}
