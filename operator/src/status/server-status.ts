// status.server and the CpuFallback condition: the server Deployment's replicas, and the execution
// provider the server reported in its server.ready event (CUDA asked for, CPU in fact, is common).
import type { V1Deployment } from "@kubernetes/client-node";
import type { ServerStatus, SFPromptJob } from "@sfprompt/api";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import type { ConditionUpdate } from "./conditions.js";

/** The server's status; without a caught-up progress replay, the last written report stands. */
export function serverStatusOf(
  job: SFPromptJob,
  deployment: V1Deployment | undefined,
  progress: ProgressSnapshot | undefined,
): ServerStatus {
  const previous = job.status?.server;
  const reported: Partial<ServerStatus> = progress
    ? progress.server
      ? {
          executionProvider: progress.server.actual,
          ...(progress.server.fallbackReason !== undefined
            ? { fallbackReason: progress.server.fallbackReason }
            : {}),
          instance: progress.server.instance,
          readyTime: progress.server.at,
        }
      : {}
    : {
        ...(previous?.executionProvider !== undefined
          ? { executionProvider: previous.executionProvider }
          : {}),
        ...(previous?.fallbackReason !== undefined ? { fallbackReason: previous.fallbackReason } : {}),
        ...(previous?.instance !== undefined ? { instance: previous.instance } : {}),
        ...(previous?.readyTime !== undefined ? { readyTime: previous.readyTime } : {}),
      };
  return {
    availableReplicas: deployment?.status?.availableReplicas ?? 0,
    requestedExecutionProvider: job.spec.server.executionProvider,
    ...reported,
  };
}

/**
 * CpuFallback: True when the server asked for CUDA and runs on CPU; Unknown until it reports. The
 * advice depends on `gpus` (spec.server.gpus): with none requested, that is the first thing to say.
 */
export function cpuFallbackCondition(server: ServerStatus, gpus = 0): ConditionUpdate {
  const type = "CpuFallback";
  const { requestedExecutionProvider: requested, executionProvider: actual } = server;
  if (actual === undefined)
    return {
      type,
      status: "Unknown",
      reason: "NotReported",
      message: "the server has not reported its execution provider yet",
    };
  if (requested === "cuda" && actual === "cpu") {
    const why = server.fallbackReason ? `: ${server.fallbackReason}` : "";
    return {
      type,
      status: "True",
      reason: "CudaUnavailable",
      message:
        `server ${server.instance ?? ""} asked for CUDA but runs the body on CPU${why}. ` +
        (gpus === 0
          ? "The job requests no GPU (spec.server.gpus is 0): request one (and a CUDA server image, " +
            "jobImages.serverGpu), or set spec.server.executionProvider: cpu to silence this"
          : "Give it a GPU (spec.server.gpus, spec.server.runtimeClassName on k3s) and a CUDA server image " +
            "(jobImages.serverGpu), or set spec.server.executionProvider: cpu to silence this"),
    };
  }
  return {
    type,
    status: "False",
    reason: "AsRequested",
    message:
      actual === "none"
        ? "this method runs no model on the server"
        : `the server runs the body on ${actual}, as asked`,
  };
}
