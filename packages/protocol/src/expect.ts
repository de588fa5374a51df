// Receiver-side expectations on a frame's tensors (names, dtypes, shapes with free dimensions).
import { FrameDtypeError, FrameShapeError } from "./errors.js";
import { frameRef, type DecodedFrame } from "./frame.js";
import type { DType, Tensor } from "./tensor.js";

/** A tensor a receiver expects: `null` dimensions match any size (e.g. the batch). */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly (number | null)[];
}

/** Throws FrameShapeError/FrameDtypeError unless `frame` carries exactly the tensors of `specs`. */
export function checkTensors(frame: DecodedFrame, specs: readonly TensorSpec[]): void {
  const ref = frameRef(frame.header);
  const names = frame.tensors.map((t) => t.name);
  const wanted = specs.map((s) => s.name);
  if (names.length !== wanted.length || wanted.some((n) => !names.includes(n))) {
    throw new FrameShapeError(
      `carries tensors [${names.join(", ")}] but [${wanted.join(", ")}] are expected`,
      {
        frame: ref,
        field: "tensors",
      },
    );
  }
  for (const spec of specs)
    checkTensor(
      frame.tensors.find((t) => t.name === spec.name)!,
      spec,
      frame,
    );
}

function checkTensor(tensor: Tensor, spec: TensorSpec, frame: DecodedFrame): void {
  const ref = frameRef(frame.header);
  const field = `tensors.${spec.name}`;
  if (tensor.dtype !== spec.dtype) {
    throw new FrameDtypeError(`dtype is ${tensor.dtype} but ${spec.dtype} is expected`, {
      frame: ref,
      field,
    });
  }
  const fits =
    tensor.shape.length === spec.shape.length &&
    spec.shape.every((d, i) => d === null || d === tensor.shape[i]);
  if (!fits) {
    const want = spec.shape.map((d) => (d === null ? "?" : String(d))).join(", ");
    throw new FrameShapeError(`shape is [${tensor.shape.join(", ")}] but [${want}] is expected`, {
      frame: ref,
      field,
    });
  }
}

/** The tensor called `name`, or a FrameShapeError naming the frame. */
export function tensorByName(frame: DecodedFrame, name: string): Tensor {
  const t = frame.tensors.find((x) => x.name === name);
  if (t === undefined) {
    throw new FrameShapeError(`has no tensor ${name}`, {
      frame: frameRef(frame.header),
      field: `tensors.${name}`,
    });
  }
  return t;
}
