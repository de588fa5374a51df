// How a client reaches the frozen body: over NATS (split methods) or in process (FL baselines, where
// the client holds the whole model). The trainer is the same for both.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Tensor } from "@sfprompt/engine";
import {
  jobSubjects,
  tensorByName,
  type Codec,
  type ObserverErrorSink,
  type RequestOptions,
  type RetryInfo,
  type TrafficLedger,
} from "@sfprompt/protocol";
import type { ModelInputs, PartitionBundle } from "../bundle/partition-bundle.js";
import { f32Tensor } from "../bundle/tensors.js";
import { BackwardReplySchema, readMeta } from "../runtime/messages.js";
import { observeRequests, type RequestObserver } from "../runtime/request-ops.js";
import { requestAcrossReconnects, type Reconnects, type ResendInfo } from "./reconnects.js";

/** What the backward needs from its forward: the round, the step, the head output and masks (for a redo). */
export interface ForwardHandle {
  readonly round: number;
  step: number;
  readonly headOut: Tensor;
  readonly masks: ModelInputs;
}

export interface BodyLink {
  /** a_b = W_b(a_h); `masks` are the attention masks a text model's body reads (none for images). */
  forward(
    round: number,
    headOut: Tensor,
    masks?: ModelInputs,
  ): Promise<{ output: Tensor & { data: Float32Array }; handle: ForwardHandle }>;
  /** ∂L/∂a_h from ∂L/∂a_b for the forward of `handle`. */
  backward(handle: ForwardHandle, gradOut: Tensor): Promise<Tensor & { data: Float32Array }>;
  /** True when the body runs on this machine (its FLOPs count as client compute). */
  readonly local: boolean;
}

/** The body in this process (recompute variant for the backward). */
export function localBody(bundle: PartitionBundle): BodyLink {
  return {
    local: true,
    async forward(round, headOut, masks = {}) {
      return { output: await bundle.bodyForward(headOut, masks), handle: { round, step: 0, headOut, masks } };
    },
    backward(handle, gradOut) {
      return bundle.bodyBackward(handle.headOut, gradOut, handle.masks);
    },
  };
}

export interface RemoteBodyOptions {
  readonly nc: NatsConnection;
  readonly job: string;
  readonly client: string;
  readonly headOutput: string;
  readonly bodyOutput: string;
  readonly codecs: { activationsUp: Codec; gradientsUp: Codec };
  readonly ledger: TrafficLedger;
  readonly timeoutMs: number;
  readonly nextStep: () => number;
  readonly signal?: AbortSignal;
  /** Body requests waiting at a reconnect are sent again at once (their reply went with it). */
  readonly reconnects?: Reconnects;
  readonly onResend?: (r: ResendInfo) => void;
  readonly onRetry?: (retry: RetryInfo) => void;
  /** Told each body request's latency (retries included) and outcome. */
  readonly onRequest?: RequestObserver;
  /** Where an onRequest that threw is reported (default: a process warning). */
  readonly onObserverError?: ObserverErrorSink;
}

/** Tensor names of the body messages (the graph names, so the server can check them). */
export function gradName(tensor: string): string {
  return `grad_${tensor}`;
}

/** The body service over NATS request/reply (sfp.<job>.body.fwd / .bwd). */
export function remoteBody(o: RemoteBodyOptions): BodyLink {
  const subjects = jobSubjects(o.job);
  // the client's own signal, not a child per request (AbortSignal.any): see ServerLink.request
  const request = (): RequestOptions => ({
    ledger: o.ledger,
    timeoutMs: o.timeoutMs,
    ...(o.onRetry ? { onRetry: o.onRetry } : {}),
    ...(o.onObserverError ? { onObserverError: o.onObserverError } : {}),
    ...observeRequests(o.job, o.onRequest),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const send = async (
    round: number,
    step: number,
    headOut: Tensor,
    masks: ModelInputs,
  ): Promise<Tensor & { data: Float32Array }> => {
    const reply = await requestAcrossReconnects(
      o.nc,
      subjects.bodyForward,
      {
        kind: "activation",
        job: o.job,
        client: o.client,
        round,
        step,
        tensors: [
          {
            name: o.headOutput,
            dtype: "float32",
            shape: headOut.dims,
            data: headOut.data as Float32Array,
            codec: o.codecs.activationsUp,
          },
          // int masks travel raw: a few bytes per token beside the activations' width
          ...Object.entries(masks).map(([name, m]) => ({
            name,
            dtype: "int64" as const,
            shape: m.dims,
            data: m.data as BigInt64Array,
          })),
        ],
      },
      request(),
      o.reconnects,
      o.onResend,
    );
    const t = tensorByName(reply, o.bodyOutput);
    return f32Tensor(t.data as Float32Array, t.shape) as Tensor & { data: Float32Array };
  };
  return {
    local: false,
    async forward(round, headOut, masks = {}) {
      const step = o.nextStep();
      return { output: await send(round, step, headOut, masks), handle: { round, step, headOut, masks } };
    },
    async backward(handle, gradOut) {
      for (let attempt = 0; ; attempt++) {
        const reply = await requestAcrossReconnects(
          o.nc,
          subjects.bodyBackward,
          {
            kind: "gradient",
            job: o.job,
            client: o.client,
            round: handle.round,
            step: handle.step,
            tensors: [
              {
                name: gradName(o.bodyOutput),
                dtype: "float32",
                shape: gradOut.dims,
                data: gradOut.data as Float32Array,
                codec: o.codecs.gradientsUp,
              },
            ],
          },
          request(),
          o.reconnects,
          o.onResend,
        );
        if (readMeta(BackwardReplySchema, reply, "body backward reply").missing !== true || attempt >= 1) {
          const t = tensorByName(reply, gradName(o.headOutput));
          return f32Tensor(t.data as Float32Array, t.shape) as Tensor & { data: Float32Array };
        }
        // the server lost the forward's stash (restart, eviction): send the forward again, new step
        handle.step = o.nextStep();
        await send(handle.round, handle.step, handle.headOut, handle.masks);
      }
    },
  };
}
