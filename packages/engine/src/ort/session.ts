// Thin helpers over onnxruntime-node: sessions from IR models or files, feeds from IR tensors.
// onnxruntime-node only passes feeds for the inputs it lists, and it does not list inputs that also
// have an initializer ("overridable initializers"): a feed for such an input is silently ignored.
// So sessions here are created from a model where those inputs are plain inputs, and GraphSession
// fills in the initializer's value when the caller feeds none.
// A model file is opened by ORT from its path (or, with such inputs, from its graph's bytes) with its
// external data left in its files (ORT reads them from the model's folder); an in-memory model past
// `externalDataAbove` is written once to a temporary folder with its weights as external data and
// opened from there. One ModelProto cannot pass 2 GiB.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import { OnnxIoError } from "../errors.js";
import { bytesOfValues } from "../ir/dtype.js";
import type { Model, Tensor } from "../ir/types.js";
import { encodeModel, writeModel } from "../onnx/model-io.js";
import { readModelForSession } from "../onnx/session-model.js";

export type OrtTensor = ort.Tensor;

export interface SessionOptions {
  readonly intraOpNumThreads?: number;
  readonly interOpNumThreads?: number;
  readonly graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  readonly executionProviders?: ort.InferenceSession.SessionOptions["executionProviders"];
  /**
   * Initializer bytes past which an in-memory model is not encoded inline but written to a temporary
   * folder with its weights as external data, opened from there and the folder removed (default
   * 1 GiB: one ModelProto cannot pass 2 GiB). Model files are always opened with their data in place.
   */
  readonly externalDataAbove?: number;
}

const EXTERNAL_DATA_ABOVE = 2 ** 30;

/** Splits off the initializers that are also graph inputs: the model without them, and their values. */
export function splitOverridableInitializers(model: Model): {
  model: Model;
  defaults: Record<string, Tensor>;
} {
  const g = model.graph;
  const inputs = new Set(g.inputs.map((i) => i.name));
  const defaults: Record<string, Tensor> = {};
  const initializers = new Map(g.initializers);
  for (const [name, t] of g.initializers) {
    if (!inputs.has(name)) continue;
    defaults[name] = t;
    initializers.delete(name);
  }
  return { model: { ...model, graph: { ...g, initializers } }, defaults };
}

function ortOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
    interOpNumThreads: options.interOpNumThreads ?? 1,
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
    // Trainable initializers are graph inputs on purpose; ORT warns about each one at level 2.
    logSeverityLevel: 3,
  };
}

function initializerBytes(model: Model): number {
  let n = 0;
  for (const t of model.graph.initializers.values())
    if (t.dtype !== "string") n += bytesOfValues(t.data).byteLength;
  return n;
}

/** The ORT session of a model, its overridable initializers taken out, and their stored values. */
async function openSession(
  model: Model | string,
  options: SessionOptions,
): Promise<{ session: ort.InferenceSession; defaults: Record<string, Tensor> }> {
  if (typeof model === "string") {
    const read = readModelForSession(model);
    if (typeof read.model === "string")
      return { session: await ort.InferenceSession.create(read.model, ortOptions(options)), defaults: {} };
    // from bytes, ORT finds external data in this folder (by default it refuses any outside the cwd)
    const dir = read.externalDataFolder ?? dirname(resolve(model));
    const folder = { session: { model_external_initializers_file_folder_path: dir } };
    const session = await ort.InferenceSession.create(read.model, { ...ortOptions(options), extra: folder });
    return { session, defaults: read.overridable };
  }
  const split = splitOverridableInitializers(model);
  const weights = initializerBytes(split.model);
  const limit = options.externalDataAbove ?? EXTERNAL_DATA_ABOVE;
  if (weights <= limit) {
    const session = await ort.InferenceSession.create(encodeModel(split.model), ortOptions(options));
    return { session, defaults: split.defaults };
  }
  const parent = tmpdir();
  const cannotWrite = (cause: unknown): OnnxIoError =>
    new OnnxIoError(
      `cannot write the model's ${Math.ceil(weights / 2 ** 20)} MiB of weights to a temporary folder in ${parent} ` +
        `(${(cause as NodeJS.ErrnoException).code ?? String(cause)}): a model past ${limit} bytes of weights is opened ` +
        `from a file; set TMPDIR to a writable folder with room for them`,
      { cause, path: parent },
    );
  let dir: string;
  try {
    dir = mkdtempSync(join(parent, "sfprompt-session-"));
  } catch (cause) {
    throw cannotWrite(cause);
  }
  try {
    const file = join(dir, "model.onnx");
    try {
      writeModel(file, split.model, { externalData: { threshold: 1024 } });
    } catch (cause) {
      throw cannotWrite(cause);
    }
    return {
      session: await ort.InferenceSession.create(file, ortOptions(options)),
      defaults: split.defaults,
    };
  } finally {
    // ORT holds what it needs once created (a file it mapped stays readable after its name is gone)
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Creates a raw ORT session. Inputs backed by an initializer become required inputs (so a fed value is
 * never ignored); use GraphSession to fall back to the stored values.
 */
export async function createSession(
  model: Model | string,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  return (await openSession(model, options)).session;
}

/** Wraps an IR tensor as an ORT tensor (no copy). */
export function toOrtTensor(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims]);
}

/** Copies an ORT tensor's metadata into an IR tensor (the data is shared). */
export function fromOrtTensor(t: ort.Tensor): Tensor {
  return { dtype: t.type as Tensor["dtype"], dims: [...t.dims], data: t.data as Tensor["data"] };
}

/** An ORT session over IR tensors in which inputs with a stored initializer may be fed or left out. */
export class GraphSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly defaults: Record<string, Tensor>,
  ) {}

  static async create(model: Model | string, options: SessionOptions = {}): Promise<GraphSession> {
    const { session, defaults } = await openSession(model, options);
    return new GraphSession(session, defaults);
  }

  /** Every input, including those with a default value. */
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Inputs that have a default (trainable initializers) and may be left out of the feeds. */
  get defaultedInputs(): readonly string[] {
    return Object.keys(this.defaults);
  }

  async run(
    feeds: Readonly<Record<string, Tensor>>,
    fetches?: readonly string[],
  ): Promise<Record<string, Tensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries({ ...this.defaults, ...feeds })) f[k] = toOrtTensor(v);
    const out = fetches ? await this.session.run(f, [...fetches]) : await this.session.run(f);
    const r: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(out)) r[k] = fromOrtTensor(v);
    return r;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Runs a model once on the given feeds and returns every output, releasing the session afterwards. */
export async function runOnce(
  model: Model | string,
  feeds: Readonly<Record<string, Tensor>>,
  options: SessionOptions = {},
): Promise<Record<string, Tensor>> {
  const s = await GraphSession.create(model, options);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}
