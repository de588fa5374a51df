// Whether an error of stdout or stderr means that output is gone for good, so a command stops or
// goes on silently instead of crashing: its reader exited (EPIPE, `| head`) or its terminal hung up
// (EIO: the window closed, the ssh session dropped).
export function isOutputGone(error: NodeJS.ErrnoException): boolean {
  return error.code === "EPIPE" || error.code === "EIO";
}
