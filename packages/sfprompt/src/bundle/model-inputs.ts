// How a data batch becomes the model's graph inputs: one float input for image models; token ids, an
// attention mask derived from the padding and zero token types for BERT-family text models.
import type { TensorSpec as GraphTensorSpec, Tensor } from "@sfprompt/engine";
import type { DataBatch } from "../datasets/batching.js";
import type { FeatureArray } from "../datasets/dataset.js";
import { BundleError } from "../runtime/errors.js";
import { f32Tensor } from "./tensors.js";

/** The model inputs of one batch, by graph input name. */
export type ModelInputs = Record<string, Tensor>;

/** What feeds the model: an image tensor, or token ids with their masks. */
export type InputLayout =
  | { readonly kind: "image"; readonly name: string }
  | {
      readonly kind: "tokens";
      readonly ids: string;
      /** Inputs read as attention masks (1 on real tokens, 0 on padding). */
      readonly masks: readonly string[];
      /** Other int inputs (token_type_ids): fed as zeros. */
      readonly zeros: readonly string[];
    };

const TOKEN_TYPES = /token_type|segment/i;

/** Reads the layout from the model's inputs and the splitter's mask inputs. */
export function inputLayout(inputs: readonly GraphTensorSpec[], maskInputs: readonly string[]): InputLayout {
  if (inputs.length === 1 && inputs[0]!.dtype === "float32") return { kind: "image", name: inputs[0]!.name };
  const bad = inputs.filter((i) => i.dtype !== "int64" && i.dtype !== "int32");
  if (bad.length > 0) {
    throw new BundleError(
      `the model has inputs ${inputs.map((i) => `${i.name} (${i.dtype})`).join(", ")}; the runtime feeds one float image input, or int token ids with attention masks`,
    );
  }
  const masks = inputs.filter((i) => maskInputs.includes(i.name)).map((i) => i.name);
  const zeros = inputs.filter((i) => !masks.includes(i.name) && TOKEN_TYPES.test(i.name)).map((i) => i.name);
  const ids = inputs.filter((i) => !masks.includes(i.name) && !zeros.includes(i.name));
  if (ids.length !== 1) {
    throw new BundleError(
      `cannot tell which of the model inputs ${inputs.map((i) => i.name).join(", ")} holds the token ids (masks: ${masks.join(", ") || "none"}); export the model with input_ids, attention_mask and optionally token_type_ids`,
    );
  }
  return { kind: "tokens", ids: ids[0]!.name, masks, zeros };
}

function int64Of(data: Int32Array | BigInt64Array): BigInt64Array {
  return data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
}

/** The graph inputs of a batch under `layout`; `padId` marks padding in token batches. */
export function batchInputs(layout: InputLayout, batch: DataBatch<FeatureArray>, padId: number): ModelInputs {
  if (layout.kind === "image") {
    if (!(batch.x instanceof Float32Array)) {
      throw new BundleError(`the model takes float32 images in ${layout.name}, but the data holds token ids`);
    }
    return { [layout.name]: f32Tensor(batch.x, batch.shape) };
  }
  if (batch.x instanceof Float32Array) {
    throw new BundleError(
      `the model takes token ids in ${layout.ids}, but the data holds float samples; give it text (JSONL "text" or "ids", or a text dataset)`,
    );
  }
  const ids = int64Of(batch.x);
  const dims = [...batch.shape];
  const pad = BigInt(padId);
  const mask = BigInt64Array.from(ids, (v) => (v === pad ? 0n : 1n));
  const out: ModelInputs = { [layout.ids]: { dtype: "int64", dims, data: ids } };
  for (const m of layout.masks) out[m] = { dtype: "int64", dims, data: mask };
  for (const z of layout.zeros) out[z] = { dtype: "int64", dims, data: new BigInt64Array(ids.length) };
  return out;
}
