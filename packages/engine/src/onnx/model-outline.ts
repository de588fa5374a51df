// Reads an ONNX file's structure without its weights: the file is walked by positional reads at the
// protobuf wire level (tags and lengths only), the initializers' payload fields (raw_data and the typed
// *_data fields) are stepped over, and everything else is decoded by the one protobufjs decoder
// (onnxTypes) as readModel decodes it. A file of any size is never held whole; only the initializers a
// caller asks for have their payload read.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { dirname } from "node:path";
import { OnnxIoError } from "../errors.js";
import { dtypeFromCode } from "../ir/dtype.js";
import type { DType, Model, Tensor } from "../ir/types.js";
import { onnxTypes, toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import { checkExternalLocations } from "./external-location.js";
import { loadModelError, modelFromProto, modelProtoGraph, readModelError } from "./model-io.js";
import { checkExternalData, checkRawBytes, tensorFromProto } from "./tensor-proto.js";

/** ModelProto.graph, GraphProto.initializer (field numbers of the vendored onnx.proto). */
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
/** TensorProto's value fields: float_data, int32_data, string_data, int64_data, raw_data, double_data, uint64_data. */
const TENSOR_PAYLOAD = new Set([4, 5, 6, 7, 9, 10, 11]);
/** TensorProto.raw_data. */
const TENSOR_RAW_DATA = 9;
const EXTERNAL = 1;

/** Why the wire walk stopped: reported as protobufjs's decoding failure is (readModel's message). */
class WireError extends Error {}

/** A model file read by positional reads through a small window (tags and lengths are a few bytes). */
class PositionalFile {
  readonly #fd: number;
  readonly size: number;
  readonly #window = Buffer.alloc(1 << 16);
  #start = 0;
  #length = 0;

  constructor(fd: number) {
    this.#fd = fd;
    this.size = fstatSync(fd).size;
  }

  byte(at: number): number {
    if (at < this.#start || at >= this.#start + this.#length) {
      if (at >= this.size) throw new WireError(`truncated at byte ${at}`);
      this.#length = readSync(this.#fd, this.#window, 0, this.#window.length, at);
      this.#start = at;
      if (this.#length === 0) throw new WireError(`truncated at byte ${at}`);
    }
    return this.#window[at - this.#start]!;
  }

  /** A varint at `at` (values past 2^53 lose precision: only tags and lengths are read this way). */
  varint(at: number): { value: number; next: number } {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(at + i);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return { value, next: at + i + 1 };
      scale *= 128;
    }
    throw new WireError(`varint too long at byte ${at}`);
  }

  /** `length` bytes at `at`, read in pieces (one read is limited to 2 GiB). */
  range(at: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = readSync(this.#fd, out, done, Math.min(length - done, 1 << 30), at + done);
      if (n === 0) throw new WireError(`truncated at byte ${at + done}`);
      done += n;
    }
    return out;
  }
}

/** One field of a message: its number, and where it starts (its tag), its value starts and it ends. */
interface WireField {
  readonly field: number;
  readonly wire: number;
  readonly start: number;
  readonly value: number;
  readonly end: number;
}

function* wireFields(f: PositionalFile, start: number, end: number): Generator<WireField> {
  for (let at = start; at < end;) {
    const tag = f.varint(at);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    let value = tag.next;
    let next: number;
    switch (wire) {
      case 0:
        next = f.varint(value).next;
        break;
      case 1:
        next = value + 8;
        break;
      case 2: {
        const len = f.varint(value);
        value = len.next;
        next = value + len.value;
        break;
      }
      case 5:
        next = value + 4;
        break;
      default:
        throw new WireError(`invalid wire type ${wire} at byte ${at}`);
    }
    if (field === 0 || next > end) throw new WireError(`field ${field} at byte ${at} runs past its message`);
    yield { field, wire, start: at, value, end: next };
    at = next;
  }
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** An initializer without its values: what the file says of it besides its payload. */
export interface InitializerOutline {
  readonly dtype: DType;
  readonly dims: readonly number[];
  /** ONNX data_type when dtype is "other". */
  readonly onnxDataType?: number;
  /** Its external_data entries (location, offset, length…) when its data is kept in another file. */
  readonly external?: Readonly<Record<string, string>>;
}

function outlineOf(t: ProtoMessage): InitializerOutline {
  const code = toNumber(t["data_type"]);
  const dtype = dtypeFromCode(code);
  const dims = (Array.isArray(t["dims"]) ? (t["dims"] as unknown[]) : []).map(toNumber);
  const base = dtype === "other" ? { dtype, dims, onnxDataType: code } : { dtype, dims };
  if (toNumber(t["data_location"]) !== EXTERNAL) return base;
  const external: Record<string, string> = {};
  for (const e of (t["external_data"] as ProtoMessage[] | undefined) ?? [])
    external[String(e["key"])] = String(e["value"]);
  return { ...base, external };
}

/** Chooses the initializers whose values are read, by name and outline. */
export type WantValues = (name: string, t: InitializerOutline) => boolean;

/**
 * The ModelProto of `path` as protobufjs decodes it, its graph's initializers without their payload
 * fields except those `want` chooses (which are whole). Throws WireError or protobufjs's error on bytes
 * that are no ModelProto, Error("no graph") on one without a graph.
 */
export function readModelProtoOutline(path: string, want: WantValues): ProtoMessage {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    throw readModelError(path, cause);
  }
  try {
    let f: PositionalFile;
    try {
      f = new PositionalFile(fd);
    } catch (cause) {
      throw readModelError(path, cause);
    }
    const types = onnxTypes();
    try {
      const modelParts: Uint8Array[] = [];
      const graphParts: Uint8Array[] = [];
      const tensors: ProtoMessage[] = [];
      let graphs = 0;
      for (const m of wireFields(f, 0, f.size)) {
        if (m.field !== MODEL_GRAPH || m.wire !== 2) {
          modelParts.push(f.range(m.start, m.end - m.start));
          continue;
        }
        graphs++;
        for (const g of wireFields(f, m.value, m.end)) {
          if (g.field !== GRAPH_INITIALIZER || g.wire !== 2) {
            graphParts.push(f.range(g.start, g.end - g.start));
            continue;
          }
          const kept: Uint8Array[] = [];
          const payload: WireField[] = [];
          for (const t of wireFields(f, g.value, g.end)) {
            if (TENSOR_PAYLOAD.has(t.field)) payload.push(t);
            else kept.push(f.range(t.start, t.end - t.start));
          }
          const outline = types.TensorProto.decode(concat(kept)) as unknown as ProtoMessage;
          const name = String(outline["name"] ?? "");
          checkRawLength(path, outline, payload);
          const whole =
            payload.length > 0 && want(name, outlineOf(outline))
              ? (types.TensorProto.decode(
                  concat([...kept, ...payload.map((p) => f.range(p.start, p.end - p.start))]),
                ) as unknown as ProtoMessage)
              : outline;
          tensors.push(whole);
        }
      }
      const graphBytes = concat(graphParts);
      const header = new Uint8Array([MODEL_GRAPH * 8 + 2, ...varintBytes(graphBytes.byteLength)]);
      const msg = types.ModelProto.decode(
        concat([...modelParts, ...(graphs > 0 ? [header, graphBytes] : [])]),
      ) as unknown as ProtoMessage;
      const graph = msg["graph"] as ProtoMessage | undefined;
      if (graph !== undefined && graph !== null) graph["initializer"] = tensors;
      return msg;
    } catch (cause) {
      if (cause instanceof OnnxIoError) throw cause;
      // a read the file system refused (a folder opens, and its first read says EISDIR): readModel's
      // message for a file it cannot read, not a decoding failure
      if ((cause as NodeJS.ErrnoException).syscall === "read") throw readModelError(path, cause);
      throw new OnnxIoError(
        `cannot load ONNX model ${path}: the bytes are not an ONNX ModelProto (protobuf decoding failed)`,
        { cause, path },
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * An inline initializer's raw_data length (stepped over, not read) against its dims × dtype, as
 * tensorFromProto checks it when it reads the bytes: a file cut or changed inside a weight whose
 * framing still holds is refused here too, naming the tensor and the file.
 */
function checkRawLength(path: string, tensor: ProtoMessage, payload: readonly WireField[]): void {
  // the last raw_data is the one a decoder keeps; none, or an empty one, means the typed fields
  const raw = payload.filter((p) => p.field === TENSOR_RAW_DATA && p.wire === 2).at(-1);
  if (raw === undefined || raw.end === raw.value) return;
  const t = outlineOf(tensor);
  if (t.external !== undefined) return;
  try {
    checkRawBytes(String(tensor["name"] ?? ""), t.dtype, t.dims, raw.end - raw.value);
  } catch (cause) {
    throw loadModelError(path, cause);
  }
}

/** A model read without its weights (readModelOutline). */
export interface ModelOutline {
  /**
   * The model as readModel reads it, except that graph.initializers holds only the initializers whose
   * values were asked for: `initializers` below lists them all.
   */
  readonly model: Model;
  /** Every initializer of the main graph, in file order, without values. */
  readonly initializers: ReadonlyMap<string, InitializerOutline>;
}

/**
 * Reads an ONNX file's graph without its weights: every initializer's dtype, dims and data location,
 * and the values of those `options.values` chooses (read from the file, or from its external data
 * file, as readModel reads them). Node attributes (Constant tensors, subgraphs) are read whole. The
 * same OnnxIoErrors as readModel; with `checkExternalData`, also readModel's for an initializer whose
 * external data file cannot be opened or is shorter than its range (the file is opened, not read).
 */
export function readModelOutline(
  path: string,
  options: { values?: WantValues; checkExternalData?: boolean } = {},
): ModelOutline {
  const want = options.values ?? (() => false);
  const msg = readModelProtoOutline(path, want);
  try {
    const graph = modelProtoGraph(msg);
    // every location, the data of which is neither read nor opened here too: a caller lists or hands
    // them on (the image's model digest, a session)
    checkExternalLocations(graph, { dir: dirname(path), file: path });
    const all = (graph["initializer"] as ProtoMessage[]) ?? [];
    const initializers = new Map<string, InitializerOutline>();
    const src = { baseDir: dirname(path), modelFile: path, cache: new Map<string, number>() };
    const values = new Map<string, Tensor>();
    for (const t of all) {
      const name = String(t["name"] ?? "");
      const outline = outlineOf(t);
      initializers.set(name, outline);
      if (want(name, outline)) values.set(name, tensorFromProto(t, src));
      else if (options.checkExternalData === true && outline.external !== undefined)
        checkExternalData(t, src);
    }
    graph["initializer"] = [];
    const model = modelFromProto(msg, dirname(path), path);
    model.graph.initializers = values;
    return { model, initializers };
  } catch (cause) {
    if (cause instanceof OnnxIoError && cause.message.startsWith(`cannot load ONNX model ${path}`))
      throw cause;
    throw loadModelError(path, cause);
  }
}
