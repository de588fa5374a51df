// A model file that cannot be read or is no ONNX model, told by what the user wrote (a flag, a job
// field) with what to do: the engine's OnnxIoError names the file but not where it came from.
import { unreadableDetail } from "@sfprompt/core";
import { ExternalDataLocationError, OnnxIoError, TensorBytesError } from "@sfprompt/engine";

const NOT_ONNX_HINT =
  "give the path of an ONNX model file (a PyTorch, safetensors or TensorFlow checkpoint is not one: " +
  "export it to ONNX first, e.g. with torch.onnx.export)";

/**
 * The engine's OnnxIoError with what to do appended when the file was read but holds no ONNX model
 * (a read that failed, ENOENT or EISDIR, already says what to do; EACCES is told with the user and the
 * chmod; an external data file that cannot be read is told as such, one outside the model's folder
 * as the engine tells it, a weight whose bytes do not fit its shape as a damaged file), or undefined
 * for another error.
 */
export function modelFileDetail(error: unknown): string | undefined {
  if (!(error instanceof OnnxIoError)) return undefined;
  // a location outside the model's folder: its message says what to do (save the data beside it)
  if (error instanceof ExternalDataLocationError) return error.message;
  // an ONNX file whose weight is cut or changed: no checkpoint of another framework, a damaged copy
  if (damagedWeight(error.cause))
    return `${error.message}; the file is damaged: copy or export the model again`;
  // a read that failed carries the file system's error (with its code and path): as readModel's cause
  // for the .onnx file, or deeper (under the tensor's TensorFormatError) for an external data file
  const read = systemError(error.cause);
  if (read === undefined) return `${error.message}; ${NOT_ONNX_HINT}`;
  // a file of another owner at 0600: "check its mode and owner" said neither the user nor the chmod
  const path = read.path;
  const denied =
    path === undefined ? undefined : unreadableDetail({ path, kind: "file", where: "on this machine" }, read);
  if (denied !== undefined) return denied;
  if (read === error.cause || path === undefined) return error.message;
  // "cannot load ONNX model …: tensor …: cannot read external data file …; give the path of an ONNX
  // model file …" sent the user to export a model they have
  return (
    `${error.path ?? "the model"} keeps its weights in ${path} (ONNX external data), which cannot be opened ` +
    `(${read.code}); put that file beside the model, as the export wrote them (copy them together)`
  );
}

/** Whether `cause`'s chain holds the engine's TensorBytesError (a weight cut or changed in the file). */
function damagedWeight(cause: unknown): boolean {
  for (let e = cause, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
    if (e instanceof TensorBytesError) return true;
  return false;
}

/** The first error with a system error code in `cause`'s chain. */
function systemError(cause: unknown): NodeJS.ErrnoException | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
    if (typeof (e as NodeJS.ErrnoException).code === "string") return e as NodeJS.ErrnoException;
  return undefined;
}

/** `error` as the error of `setting` (e.g. "--model") when it is an OnnxIoError, else `error` itself. */
export function modelFileError(error: unknown, setting: string): unknown {
  const detail = modelFileDetail(error);
  return detail === undefined ? error : new OnnxIoError(`${setting}: ${detail}`, { cause: error });
}
