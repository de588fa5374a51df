// The server's `server.ready` event: it opens the body's ORT session up front, so that the operator
// (and a user reading the status) learns which execution provider the body really runs on.
import { hostname } from "node:os";
import type { RunConfig } from "@sfprompt/api";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import { CudaUnavailableError, ExecutionProviderError } from "../runtime/errors.js";
import type { Logger } from "../runtime/logger.js";
import type { EventPublisher } from "./events.js";

export interface ServerReadyInput {
  readonly config: RunConfig;
  readonly bundle: PartitionBundle;
  readonly events: EventPublisher;
  readonly logger: Logger;
  /** Whether this server runs the body at all (split methods, or evaluation through the bundle). */
  readonly runsBody: boolean;
  /** The replica's name (default: the host name, which is the pod name on Kubernetes). */
  readonly instance?: string | undefined;
}

/**
 * Opens the body session and publishes `server.ready`. Throws ExecutionProviderError when CUDA was
 * asked for without CPU fallback and cannot be used.
 */
export async function announceServerReady(i: ServerReadyInput): Promise<void> {
  const requested = i.config.server.executionProvider;
  const instance = i.instance ?? hostname();
  let actual: "cuda" | "cpu" | "none" = "none";
  if (i.runsBody) {
    try {
      actual = (await i.bundle.openBody()) ?? "cpu";
    } catch (cause) {
      if (requested !== "cuda" || i.config.server.cpuFallback) throw cause;
      // the pool's error already says "cpuFallback is false": quote only ONNX Runtime's reason
      const why =
        cause instanceof CudaUnavailableError
          ? ` for ${cause.graph}: ${cause.reason}`
          : ` (${(cause as Error).message})`;
      throw new ExecutionProviderError(
        `server ${instance}: spec.server.executionProvider is cuda and spec.server.cpuFallback is false, ` +
          `but ONNX Runtime cannot use CUDA${why}; run the server on a GPU node ` +
          "(spec.server.gpus, spec.server.runtimeClassName) with a CUDA server image, or set " +
          "spec.server.cpuFallback: true to run on CPU",
        { cause },
      );
    }
  }
  const fallbackReason = i.bundle.pool.fallbackReason;
  const fellBack = requested === "cuda" && actual === "cpu";
  i.logger.log(fellBack ? "warn" : "info", "server-ready", { requested, actual, instance });
  await i.events.publish({
    type: "server.ready",
    instance,
    executionProvider: { requested, actual },
    ...(fellBack && fallbackReason !== undefined ? { fallbackReason: fallbackReason.slice(0, 4096) } : {}),
  });
}
