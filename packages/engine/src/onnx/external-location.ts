// Where a tensor's ONNX external data may be: a file in the model's folder. The one check every reader
// makes (readModel, readModelOutline, readModelForSession, externalDataFiles) before it opens, lists or
// hands on a `location`, with ONNX Runtime's rule (1.30: absolute refused, a path or symbolic link that
// resolves outside the model's folder refused, the model file's own real folder allowed), so that a
// model naming /etc/passwd or ../x is refused by us, with what to do, rather than read as weights.
import { lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import { OnnxIoError } from "../errors.js";
import { toNumber, type ProtoMessage } from "../proto/onnx-schema.js";

/** A tensor's external data location that is not a file in the model's folder. */
export class ExternalDataLocationError extends OnnxIoError {
  override readonly name: string = "ExternalDataLocationError";
  /** The tensor whose external_data names the location. */
  readonly tensor: string;
  /** The location as the model file writes it. */
  readonly location: string;
  constructor(message: string, o: { path?: string; tensor: string; location: string }) {
    super(message, o.path === undefined ? {} : { path: o.path });
    this.tensor = o.tensor;
    this.location = o.location;
  }
}

/** The model a location is resolved for: its folder, and its file when read from one. */
export interface ModelPlace {
  readonly dir: string;
  readonly file?: string | undefined;
}

/** Whether `path` (a real path) is `root` or inside it. */
function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel));
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Why `location`, as written, is no file in the model's folder (`outside`: it leads out of it), or
 * undefined when it may be one: the checks that need no file system (writeModel's for the location it
 * is given, every reader's first).
 */
export function locationProblem(location: string): { text: string; outside: boolean } | undefined {
  if (location === "") return { text: "an empty location", outside: false };
  if (isAbsolute(location)) return { text: "an absolute path", outside: true };
  const lexical = normalize(location);
  if (lexical === ".." || lexical.startsWith("../"))
    return { text: 'a path that climbs out of it with ".."', outside: true };
  // ".", "./", "a/..": ORT opens the folder as the data file and fails on reading it
  if (lexical === "." || lexical === "./") return { text: "the model's folder itself", outside: false };
  return undefined;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Where a write to `path` lands: the real path, following links, a dangling one's too. */
function writeTarget(path: string, hops = 0): string {
  const real = realOrUndefined(path);
  if (real !== undefined) return real;
  if (hops < 40 && isLink(path)) return writeTarget(resolve(dirname(path), readlinkSync(path)), hops + 1);
  const parent = realOrUndefined(dirname(path));
  return parent === undefined ? path : join(parent, basename(path));
}

/**
 * The symbolic link a write to `location` (lexically a file in the folder `dir`: locationProblem
 * passed) would go through to a file outside `dir`, and that file; undefined when it has no link on
 * its way or lands in the folder (a link to a file beside it: written, as every reader reads it).
 * writeModel's check before it opens the data file for writing (ADR 0006 amendment 16).
 */
export function writeLinkOutside(dir: string, location: string): { link: string; real: string } | undefined {
  let at = dir;
  let link: string | undefined;
  for (const part of normalize(location)
    .split("/")
    .filter((p) => p !== "")) {
    at = join(at, part);
    if (isLink(at)) {
      link = at;
      break;
    }
  }
  if (link === undefined) return undefined;
  const real = writeTarget(join(dir, location));
  const folder = realOrUndefined(dir) ?? dir;
  return within(folder, real) ? undefined : { link, real };
}

/**
 * Why `location` is no file in the model's folder (`outside`: it leads out of the folder; else it
 * names no file, as "" or the folder itself), with the file a link leads to; undefined when it is one
 * (or is not there).
 */
function escapes(
  place: ModelPlace,
  location: string,
): { text: string; outside: boolean; real?: string } | undefined {
  const lexical = locationProblem(location);
  if (lexical !== undefined) return lexical;
  // a file that is not there is the open's error to name (it says which file is missing)
  const real = realOrUndefined(join(place.dir, location));
  if (real === undefined) return undefined;
  const dir = realOrUndefined(place.dir);
  // a model file that is itself a link (a Hugging Face cache's snapshot) may keep its data by its target
  const fileReal = place.file === undefined ? undefined : realOrUndefined(place.file);
  const inside =
    (dir !== undefined && within(dir, real)) || (fileReal !== undefined && within(dirname(fileReal), real));
  if (!inside) return { text: `a symbolic link to ${real}`, outside: true, real };
  // a folder in it ("weights", "sub/"): opened as the data file, its read fails with EISDIR
  if (isFolder(real)) return { text: "a folder", outside: false };
  return undefined;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What to do about `location`, no file in the model's folder (`real`: where a link leads). */
function fix(place: ModelPlace, location: string, real: string | undefined): string {
  const resave =
    "save the model again with its external data beside it (onnx.save_model(model, path, " +
    'save_as_external_data=True, location="<file name>"))';
  return real === undefined
    ? resave
    : `put a copy of ${real} at ${join(place.dir, location)} in place of the link, or ${resave}`;
}

/**
 * The file that tensor `tensor`'s external data `location` names in the model's folder; an
 * ExternalDataLocationError when the location is empty, the folder itself (".", "a/.."), absolute,
 * climbs out of the folder with "..", or is (or passes through) a symbolic link to a file outside it. A location whose file is not there
 * passes: opening it says which file is missing.
 */
export function externalDataPath(place: ModelPlace, tensor: string, location: string): string {
  const why = escapes(place, location);
  if (why !== undefined) {
    const model = place.file === undefined ? "the model" : `ONNX model ${place.file}`;
    throw new ExternalDataLocationError(
      `cannot load ${model}: tensor "${tensor}" keeps its data at external location "${location}", ${why.text}, ` +
        `${why.outside ? "outside" : "not a file in"} the model's folder ${place.dir}; ` +
        "ONNX external data must be a file in the model's folder " +
        `(ONNX Runtime refuses any other): ${fix(place, location, why.real)}`,
      { ...(place.file === undefined ? {} : { path: place.file }), tensor, location },
    );
  }
  return join(place.dir, location);
}

const EXTERNAL = 1;

/** A tensor that keeps its data in an external file, as a decoded ModelProto names it. */
export interface ExternalTensor {
  readonly tensor: string;
  readonly location: string;
  /** The model's `location` entry (a StringStringEntryProto), for a caller that rewrites it. */
  readonly entry: ProtoMessage;
}

const list = (v: unknown): ProtoMessage[] => (Array.isArray(v) ? (v as ProtoMessage[]) : []);

/** `t` when it keeps its data in an external file; `named` when the tensor has no name of its own. */
function externalOf(t: ProtoMessage | undefined, named?: string): ExternalTensor[] {
  if (t === undefined || t === null || toNumber(t["data_location"]) !== EXTERNAL) return [];
  const entry = list(t["external_data"]).find((e) => String(e["key"]) === "location");
  const own = String(t["name"] ?? "");
  const tensor = own === "" && named !== undefined ? named : own;
  return entry === undefined ? [] : [{ tensor, location: String(entry["value"]), entry }];
}

/**
 * A SparseTensorProto's values and indices (two TensorProtos, each of which may be external: ORT
 * reads both when it makes the tensor dense); the indices, seldom named, are named by the values.
 */
function externalOfSparse(s: ProtoMessage | undefined): ExternalTensor[] {
  if (s === undefined || s === null) return [];
  const values = s["values"] as ProtoMessage | undefined;
  const name = values === undefined || values === null ? "" : String(values["name"] ?? "");
  return [
    ...externalOf(values),
    ...externalOf(s["indices"] as ProtoMessage | undefined, `${name} (indices)`),
  ];
}

/**
 * Every tensor of a decoded GraphProto that keeps its data in an external file: initializers, sparse
 * initializers (values and indices), node attribute tensors and sparse tensors, and those of
 * subgraphs (If, Loop, Scan bodies). One without a location entry is left to the reader that opens it
 * (readModel says so).
 */
export function externalTensors(g: ProtoMessage | undefined): ExternalTensor[] {
  if (g === undefined || g === null) return [];
  const fromNodes = list(g["node"]).flatMap((n) =>
    list(n["attribute"]).flatMap((a) => [
      ...externalOf(a["t"] as ProtoMessage | undefined),
      ...list(a["tensors"]).flatMap((t) => externalOf(t)),
      ...externalOfSparse(a["sparse_tensor"] as ProtoMessage | undefined),
      ...list(a["sparse_tensors"]).flatMap(externalOfSparse),
      ...externalTensors(a["g"] as ProtoMessage | undefined),
      ...list(a["graphs"]).flatMap(externalTensors),
    ]),
  );
  return [
    ...list(g["initializer"]).flatMap((t) => externalOf(t)),
    ...list(g["sparse_initializer"]).flatMap(externalOfSparse),
    ...fromNodes,
  ];
}

/** externalDataPath for every external tensor of a decoded GraphProto; their locations, each once. */
export function checkExternalLocations(graph: ProtoMessage, place: ModelPlace): string[] {
  const seen = new Set<string>();
  for (const { tensor, location } of externalTensors(graph)) {
    if (seen.has(location)) continue;
    externalDataPath(place, tensor, location);
    seen.add(location);
  }
  return [...seen];
}

/** The deepest folder that holds every one of `paths` (absolute, real). */
function commonFolder(paths: readonly string[]): string {
  let folder = dirname(paths[0]!);
  while (!paths.every((p) => within(folder, p)) && dirname(folder) !== folder) folder = dirname(folder);
  return folder;
}

/**
 * Where ONNX Runtime is to resolve the external data of a model handed over as bytes (its
 * model_external_initializers_file_folder_path), each tensor's `location` entry in `graph` rewritten
 * relative to it: the deepest folder that holds the real files of every location. From bytes ORT
 * takes that folder as the model's and refuses a location whose real path is outside it, so a Hugging
 * Face snapshot's data (a link to ../../blobs/<hash>), which externalDataPath allows because the
 * model file is itself a link into the blobs, opens as it does by path. Checked first
 * (externalDataPath); a location whose file is not there counts at its place in the model's real
 * folder, so that ORT names the file the model names (not one beside the others' data), and with no
 * file there the model's own folder is the answer.
 */
export function relocateExternalData(graph: ProtoMessage, place: ModelPlace): string {
  const dir = realOrUndefined(place.dir) ?? resolve(place.dir);
  const places: { entry: ProtoMessage; at: string; there: boolean }[] = [];
  for (const { tensor, location, entry } of externalTensors(graph)) {
    const real = realOrUndefined(externalDataPath(place, tensor, location));
    places.push({ entry, at: real ?? join(dir, location), there: real !== undefined });
  }
  if (!places.some((p) => p.there)) return resolve(place.dir);
  const folder = commonFolder(places.map((p) => p.at));
  for (const { entry, at } of places) entry["value"] = relative(folder, at);
  return folder;
}
