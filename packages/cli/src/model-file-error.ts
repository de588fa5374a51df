// A model file that cannot be read or is no ONNX model, told by what the user wrote (a flag, a job
// field) with what to do: the engine's OnnxIoError names the file but not where it came from.
import { unreadableDetail } from "@sfprompt/core";
import { OnnxIoError } from "@sfprompt/engine";

const NOT_ONNX_HINT =
  "give the path of an ONNX model file (a PyTorch, safetensors or TensorFlow checkpoint is not one: " +
  "export it to ONNX first, e.g. with torch.onnx.export)";

/**
 * The engine's OnnxIoError with what to do appended when the file was read but holds no ONNX model
 * (a read that failed, ENOENT or EISDIR, already says what to do; EACCES is told with the user and the
 * chmod), or undefined for another error.
 */
export function modelFileDetail(error: unknown): string | undefined {
  if (!(error instanceof OnnxIoError)) return undefined;
  // readModel's read failures carry the file system's error (with its code) as their cause
  const read = error.cause as NodeJS.ErrnoException | undefined;
  if (typeof read?.code !== "string") return `${error.message}; ${NOT_ONNX_HINT}`;
  // a file of another owner at 0600: "check its mode and owner" said neither the user nor the chmod
  const path = read.path;
  const denied =
    path === undefined ? undefined : unreadableDetail({ path, kind: "file", where: "on this machine" }, read);
  return denied ?? error.message;
}

/** `error` as the error of `setting` (e.g. "--model") when it is an OnnxIoError, else `error` itself. */
export function modelFileError(error: unknown, setting: string): unknown {
  const detail = modelFileDetail(error);
  return detail === undefined ? error : new OnnxIoError(`${setting}: ${detail}`, { cause: error });
}
