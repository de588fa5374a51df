// A loaded partition bundle: its manifest, the initial trained parameters (prompt, tail) and the
// typed steps the client, the body service and the evaluator run through ORT.
import { readPartitionManifest, type PartitionManifest, type Tensor } from "@sfprompt/engine";
import type { DataBatch } from "../datasets/batching.js";
import type { FeatureArray } from "../datasets/dataset.js";
import { BundleError } from "../runtime/errors.js";
import type { ParamSet } from "../training/param-set.js";
import { batchInputs, inputLayout, type InputLayout, type ModelInputs } from "./model-inputs.js";
import { SessionPool, type SessionConfig, type ExecutionProvider } from "./sessions.js";
import { floatOutput, gradSet, labelsTensor, paramTensors } from "./tensors.js";

export type { InputLayout, ModelInputs } from "./model-inputs.js";

/** How a bundle is opened: its sessions and, for text models, how token batches look. */
export interface BundleConfig extends SessionConfig {
  /** The id that marks padding in token batches (default 0, BERT's [PAD]). */
  readonly padId?: number;
  /** Tokens per sample of the job's text data: fixes the model's symbolic sequence axis for FLOPs. */
  readonly sequenceLength?: number;
}

/** Loss, logits and parameter gradients of one step through a loss graph. */
export interface LossStep {
  readonly loss: number;
  readonly logits: Tensor & { data: Float32Array };
  readonly grads: ParamSet;
}

/** A tail step also returns ∂L/∂a_b, what the client sends up. */
export interface TailStep extends LossStep {
  readonly gradInput: Tensor & { data: Float32Array };
}

/** The body forward of the save-activations variant: a_b and the tensors its backward needs. */
export interface SavedForward {
  readonly output: Tensor & { data: Float32Array };
  readonly saved: Record<string, Tensor>;
}

function partitionFile(m: PartitionManifest, name: "head" | "body" | "tail"): string {
  const p = m.partitions.find((x) => x.name === name);
  if (p === undefined) throw new BundleError(`manifest has no ${name} partition`);
  return p.file;
}

export class PartitionBundle {
  readonly manifest: PartitionManifest;
  readonly pool: SessionPool;
  readonly promptNames: readonly string[];
  readonly tailNames: readonly string[];
  readonly layout: InputLayout;
  /** Model inputs the body reads besides the head output (attention masks), sent with each forward. */
  readonly bodyMasks: readonly string[];
  readonly #padId: number;
  readonly #sequenceLength: number | undefined;

  private constructor(
    readonly dir: string,
    manifest: PartitionManifest,
    config: BundleConfig,
  ) {
    this.manifest = manifest;
    this.pool = new SessionPool(dir, config);
    this.promptNames = manifest.parameters.filter((p) => p.partition === "head").map((p) => p.name);
    this.tailNames = manifest.parameters.filter((p) => p.partition === "tail").map((p) => p.name);
    this.layout = inputLayout(manifest.inputs, manifest.maskInputs);
    const body = manifest.partitions.find((p) => p.name === "body");
    this.bodyMasks = (body?.inputs ?? [])
      .map((i) => i.name)
      .filter((n) => manifest.inputs.some((i) => i.name === n));
    this.#padId = config.padId ?? 0;
    this.#sequenceLength = config.sequenceLength;
  }

  /**
   * Values of the model inputs' symbolic non-batch dimensions: a text model's sequence axis is the
   * configured sequence length; a model with such an axis and none configured is an error.
   */
  symbolicDims(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const i of this.manifest.inputs) {
      for (const d of i.shape.slice(1)) {
        if (typeof d === "number" || d === null) continue;
        if (this.#sequenceLength === undefined) {
          throw new BundleError(
            `model input ${i.name} has a symbolic axis "${d}": open the bundle with the job's sequence length (the tokenizer's maxLength)`,
          );
        }
        out[d] = this.#sequenceLength;
      }
    }
    return out;
  }

  /** Reads DIR/manifest.json; sessions open on first use. */
  static load(dir: string, config: BundleConfig = {}): PartitionBundle {
    return new PartitionBundle(dir, readPartitionManifest(dir), config);
  }

  /** True for token-id (text) models. */
  get isText(): boolean {
    return this.layout.kind === "tokens";
  }

  get provider(): ExecutionProvider | undefined {
    return this.pool.provider;
  }

  /** Opens the body's session now (instead of on the first request): afterwards `provider` is known. */
  async openBody(): Promise<ExecutionProvider | undefined> {
    await this.pool.get(partitionFile(this.manifest, "body"));
    return this.pool.provider;
  }

  get headOutput(): string {
    return this.manifest.activations.head;
  }

  get bodyOutput(): string {
    return this.manifest.activations.body;
  }

  /** Name and per-sample shape of an image model's input (e.g. pixel_values, [1, 28, 28]). */
  get input(): { name: string; sampleShape: number[] } {
    if (this.layout.kind !== "image") {
      throw new BundleError(
        `the model takes token ids (${this.layout.ids}), not images; give the job text data`,
      );
    }
    const spec = this.manifest.inputs[0]!;
    const dims = spec.shape.slice(1);
    if (!dims.every((d): d is number => typeof d === "number")) {
      throw new BundleError(`model input ${spec.name} has a symbolic sample shape [${dims.join(", ")}]`);
    }
    return { name: spec.name, sampleShape: dims };
  }

  /** A data batch as model inputs. */
  inputsOf(batch: DataBatch<FeatureArray>): ModelInputs {
    return batchInputs(this.layout, batch, this.#padId);
  }

  /** The model inputs of `x` the body reads besides a_h (the attention masks; none for images). */
  masksOf(x: ModelInputs): ModelInputs {
    const out: ModelInputs = {};
    for (const n of this.bodyMasks) {
      const t = x[n];
      if (t === undefined) throw new BundleError(`the body reads model input ${n}, which the batch lacks`);
      out[n] = t;
    }
    return out;
  }

  /** The initial prompt and tail values stored in the bundle's head and tail graphs. */
  initialParams(): { prompt: ParamSet; tail: ParamSet } {
    const read = (file: string, names: readonly string[]): ParamSet => {
      const wanted = new Set(names);
      const inits = this.pool.readModelOutline(file, (n) => wanted.has(n)).model.graph.initializers;
      const out: ParamSet = new Map();
      for (const n of names) {
        const t = inits.get(n);
        if (t === undefined || t.dtype !== "float32") {
          throw new BundleError(`${file} stores no float32 initial value for parameter "${n}"`);
        }
        out.set(n, { data: Float32Array.from(t.data as Float32Array), shape: [...t.dims] });
      }
      return out;
    };
    return {
      prompt: read(partitionFile(this.manifest, "head"), this.promptNames),
      tail: read(partitionFile(this.manifest, "tail"), this.tailNames),
    };
  }

  /** Head forward: a_h for the batch with the given prompt. */
  async headForward(x: ModelInputs, prompt: ParamSet): Promise<Tensor & { data: Float32Array }> {
    const file = partitionFile(this.manifest, "head");
    const out = await this.pool.run(file, { ...x, ...paramTensors(prompt) }, [this.headOutput]);
    return floatOutput(out, this.headOutput, file, this.pool.bundleFix);
  }

  /** Head backward: ∂L/∂p from ∂L/∂a_h (the head graph recomputes its forward). */
  async headBackward(x: ModelInputs, prompt: ParamSet, gradHead: Tensor): Promise<ParamSet> {
    const g = this.manifest.gradients.head;
    if (g === null) throw new BundleError("the bundle has no prompt (P = 0): there is no head gradient");
    const upstream = g.upstream[this.headOutput]!;
    const fetches = this.promptNames.map((n) => g.gradients[n]!);
    const out = await this.pool.run(g.file, { ...x, ...paramTensors(prompt), [upstream]: gradHead }, fetches);
    return gradSet(out, prompt, g.gradients, g.file, this.pool.bundleFix);
  }

  /** Local path (head → tail, body skipped): loss and gradients of prompt and tail. */
  async localStep(x: ModelInputs, labels: Int32Array, params: ParamSet): Promise<LossStep> {
    const g = this.manifest.gradients.local;
    const out = await this.pool.run(g.file, {
      ...x,
      ...paramTensors(params),
      [g.labels]: labelsTensor(labels),
    });
    return {
      loss: scalar(out, g.loss, g.file, this.pool.bundleFix),
      logits: floatOutput(out, g.logits, g.file, this.pool.bundleFix),
      grads: gradSet(out, params, g.gradients, g.file, this.pool.bundleFix),
    };
  }

  /** Local-path logits only (EL2N scoring). */
  async localLogits(x: ModelInputs, params: ParamSet): Promise<Tensor & { data: Float32Array }> {
    const file = this.manifest.local.file;
    const out = await this.pool.run(file, { ...x, ...paramTensors(params) }, [this.manifest.logits]);
    return floatOutput(out, this.manifest.logits, file, this.pool.bundleFix);
  }

  /** Tail step on a_b: loss, logits, tail gradients and ∂L/∂a_b. */
  async tailStep(bodyOut: Tensor, labels: Int32Array, tail: ParamSet): Promise<TailStep> {
    const g = this.manifest.gradients.tail;
    const feeds = { [this.bodyOutput]: bodyOut, ...paramTensors(tail), [g.labels]: labelsTensor(labels) };
    const out = await this.pool.run(g.file, feeds);
    return {
      loss: scalar(out, g.loss, g.file, this.pool.bundleFix),
      logits: floatOutput(out, g.logits, g.file, this.pool.bundleFix),
      grads: gradSet(out, tail, g.gradients, g.file, this.pool.bundleFix),
      gradInput: floatOutput(out, g.gradients[this.bodyOutput]!, g.file, this.pool.bundleFix),
    };
  }

  /** Tail forward: logits from a_b (evaluation). */
  async tailForward(bodyOut: Tensor, tail: ParamSet): Promise<Tensor & { data: Float32Array }> {
    const file = partitionFile(this.manifest, "tail");
    const out = await this.pool.run(file, { [this.bodyOutput]: bodyOut, ...paramTensors(tail) }, [
      this.manifest.logits,
    ]);
    return floatOutput(out, this.manifest.logits, file, this.pool.bundleFix);
  }

  /** Body forward (plain graph). */
  async bodyForward(headOut: Tensor, masks: ModelInputs = {}): Promise<Tensor & { data: Float32Array }> {
    const file = partitionFile(this.manifest, "body");
    const out = await this.pool.run(file, { ...masks, [this.headOutput]: headOut }, [this.bodyOutput]);
    return floatOutput(out, this.bodyOutput, file, this.pool.bundleFix);
  }

  /** Body backward, recompute variant: ∂L/∂a_h from a_h and ∂L/∂a_b. */
  async bodyBackward(
    headOut: Tensor,
    gradBody: Tensor,
    masks: ModelInputs = {},
  ): Promise<Tensor & { data: Float32Array }> {
    const g = this.manifest.gradients.body.recompute;
    const outName = g.gradients[this.headOutput]!;
    const out = await this.pool.run(
      g.file,
      { ...masks, [this.headOutput]: headOut, [g.upstream[this.bodyOutput]!]: gradBody },
      [outName],
    );
    return floatOutput(out, outName, g.file, this.pool.bundleFix);
  }

  /** Body forward of the save-activations variant: a_b plus what its backward needs. */
  async bodyForwardSaving(headOut: Tensor, masks: ModelInputs = {}): Promise<SavedForward> {
    const g = this.manifest.gradients.body.saveActivations;
    const out = await this.pool.run(g.forward.file, { ...masks, [this.headOutput]: headOut });
    const saved: Record<string, Tensor> = {};
    const needs = new Set(g.backward.inputs.map((i) => i.name));
    for (const name of g.saved) if (needs.has(name) && out[name] !== undefined) saved[name] = out[name];
    // the backward may also read the body's own inputs
    for (const [name, t] of Object.entries({ ...masks, [this.headOutput]: headOut }))
      if (needs.has(name)) saved[name] = t;
    return { output: floatOutput(out, this.bodyOutput, g.forward.file, this.pool.bundleFix), saved };
  }

  /** Body backward of the save-activations variant. */
  async bodyBackwardSaved(
    saved: Record<string, Tensor>,
    gradBody: Tensor,
  ): Promise<Tensor & { data: Float32Array }> {
    const g = this.manifest.gradients.body.saveActivations;
    const outName = g.gradients[this.headOutput]!;
    const out = await this.pool.run(g.backward.file, { ...saved, [g.upstream[this.bodyOutput]!]: gradBody }, [
      outName,
    ]);
    return floatOutput(out, outName, g.backward.file, this.pool.bundleFix);
  }

  /** Full path head → body → tail with the given parameters: logits. */
  async predict(x: ModelInputs, prompt: ParamSet, tail: ParamSet): Promise<Tensor & { data: Float32Array }> {
    const h = await this.headForward(x, prompt);
    const b = await this.bodyForward(h, this.masksOf(x));
    return this.tailForward(b, tail);
  }

  release(): Promise<void> {
    return this.pool.release();
  }
}

function scalar(out: Record<string, Tensor>, name: string, graph: string, fix: string): number {
  const t = floatOutput(out, name, graph, fix);
  return t.data[0] as number;
}
