// Typed errors of the datasets layer: one class per failure kind, each naming the file, line or
// option that was wrong and what to do about it.
import type { UnreadableTarget } from "../runtime/unreadable-path.js";

/** A data file exists but its bytes or text are not what the format promises. */
export class DatasetFormatError extends Error {
  override readonly name = "DatasetFormatError";
  constructor(
    readonly source: string,
    /** What is wrong, without the source. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${detail}`, options);
  }
}

/** What a JSONL sample line holds: text ("text" or "ids") or numbers in a model input's layout. */
export type JsonlSampleKind = "text" | "features";

/**
 * A JSONL file whose first line holds the other kind of sample than the reader was asked for: text
 * lines read as features, or feature lines read as text. A later line of the other kind is a
 * JsonlMixedKindError.
 */
export class JsonlKindError extends Error {
  override readonly name = "JsonlKindError";
  constructor(
    /** The file and line, path:N. */
    readonly source: string,
    /** What the line holds. */
    readonly holds: JsonlSampleKind,
    /** The field that says so ("text", "ids", or the features field). */
    readonly foundField: string,
    /** The field the reader looked for and the line lacks. */
    readonly wantedField: string,
  ) {
    super(
      holds === "text"
        ? `${source}: holds text ("${foundField}") where number features ("${wantedField}") were asked for; read it with a text model's tokenizer, or give lines with "${wantedField}": [numbers]`
        : `${source}: holds number features ("${foundField}") where text ("${wantedField}", a string, or "ids") was asked for; read it as features, or give lines with "${wantedField}": "the text"`,
    );
  }
}

/**
 * A JSONL file whose later line holds the other kind of sample than its first: text among number
 * features, or number features among text. The first line was of the kind the reader was asked for.
 */
export class JsonlMixedKindError extends Error {
  override readonly name = "JsonlMixedKindError";
  constructor(
    /** The file. */
    readonly path: string,
    /** The line of the other kind (1-based). */
    readonly line: number,
    /** What that line holds. */
    readonly holds: JsonlSampleKind,
    /** The field that says so ("text", "ids", or the features field). */
    readonly foundField: string,
    /** The file's first sample line, of the kind asked for. */
    readonly firstLine: number,
    /** The field that line holds, the one every line needs. */
    readonly wantedField: string,
  ) {
    super(
      `${path}:${line}: holds ${holds === "text" ? "text" : "number features"} ("${foundField}"), but line ${firstLine}, the file's first sample, holds ${holds === "text" ? "number features" : "text"} ("${wantedField}"); every line of one file holds one kind: give line ${line} "${wantedField}" or remove it`,
    );
  }
}

/** A data file or folder is missing; the message says which package or option provides it. */
export class DatasetNotFoundError extends Error {
  override readonly name = "DatasetNotFoundError";
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/**
 * A data file or folder this process's user may not read (EACCES/EPERM), which a plain existence check
 * would report as missing. The message names the path, the user and the chmod (unreadableDetail, "on
 * this machine"); `target` lets a pod's entry point say it for where its files are.
 */
export class DatasetUnreadableError extends Error {
  override readonly name = "DatasetUnreadableError";
  constructor(
    readonly target: UnreadableTarget,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A label that is not in the dataset's class list, or a class list that does not fit the data. */
export class LabelError extends Error {
  override readonly name = "LabelError";
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** Arguments that cannot describe a valid dataset, view, batch or partition. */
export class DatasetArgumentError extends Error {
  override readonly name = "DatasetArgumentError";
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/**
 * Why a partition cannot be drawn: fewer samples than clients; a Dirichlet minimum size that the
 * samples cannot give every client; Dirichlet draws that kept leaving a client below it.
 */
export type PartitionFailure =
  | { readonly kind: "more-clients-than-samples"; readonly samples: number; readonly clients: number }
  | {
      readonly kind: "min-size-infeasible";
      readonly samples: number;
      readonly clients: number;
      readonly minSize: number;
    }
  | {
      readonly kind: "draws-exhausted";
      readonly alpha: number;
      readonly clients: number;
      readonly minSize: number;
      readonly smallest: number;
      readonly tries: number;
    };

/** A partition that cannot be drawn, e.g. Dirichlet draws that keep leaving a client too small. */
export class PartitionError extends Error {
  override readonly name = "PartitionError";
  constructor(
    message: string,
    readonly failure: PartitionFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A job's spec.data.partitioning cannot split its data: the message names the job field to change. */
export class JobPartitionError extends Error {
  override readonly name = "JobPartitionError";
  constructor(
    /** The job field to change, e.g. "spec.clients.count". */
    readonly field: string,
    /** What is wrong and what to do, without the field. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${detail}`, options);
  }
}
