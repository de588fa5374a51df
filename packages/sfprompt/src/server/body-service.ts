// The body service: forward and backward through the frozen body for every client of a job, on the
// job's body subjects (queue group, so replicas share load). Concurrent requests with the same row
// shape share one session run (recompute variant); the forward's activations wait in a bounded stash
// for the backward.
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import type { Tensor } from "@sfprompt/engine";
import {
  bodyQueueGroup,
  jobSubjects,
  serveFrames,
  tensorByName,
  type DecodedFrame,
  type FrameResponder,
  type ReplyInit,
  type TensorSpec,
  type TrafficLedger,
} from "@sfprompt/protocol";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import { f32Tensor } from "../bundle/tensors.js";
import { gradName } from "../client/body-link.js";
import type { Logger } from "../runtime/logger.js";
import { concatBatch, groupBy, rowShapeKey, splitBatch } from "./batch-tensors.js";
import { RunQueue } from "./run-queue.js";
import { ActivationStash, stashKey } from "./stash.js";

/** How the body backward gets what it needs from the forward. */
export type BodyGradientMode = "recompute" | "save-activations";

export interface BodyServiceOptions {
  readonly nc: NatsConnection;
  readonly config: RunConfig;
  readonly bundle: PartitionBundle;
  readonly ledger: TrafficLedger;
  readonly logger: Logger;
  readonly isKnownClient: (client: string) => boolean;
  readonly mode?: BodyGradientMode;
  /** Forward entries kept for backwards (default 256). */
  readonly stashEntries?: number;
}

export interface BodyService {
  readonly forward: FrameResponder;
  readonly backward: FrameResponder;
  readonly stash: ActivationStash;
  /** Requests per session run, as batched so far (forward and backward). */
  readonly groupSizes: { forward: number[]; backward: number[] };
  stop(): Promise<void>;
}

type F32 = Tensor & { data: Float32Array };

function specOf(bundle: PartitionBundle, file: "body-in" | "body-out"): TensorSpec {
  const body = bundle.manifest.partitions.find((p) => p.name === "body")!;
  const t = file === "body-in" ? body.inputs.find((i) => i.name === bundle.headOutput) : body.outputs[0];
  const shape = (t?.shape ?? []).map((d, i) => (i === 0 || typeof d !== "number" ? null : d));
  const name = file === "body-in" ? bundle.headOutput : gradName(bundle.bodyOutput);
  return { name, dtype: "float32", shape };
}

/** Starts the forward and backward responders of the job's body. */
export async function startBodyService(o: BodyServiceOptions): Promise<BodyService> {
  const { bundle, config } = o;
  const mode = o.mode ?? "recompute";
  const stash = new ActivationStash(o.stashEntries ?? 256);
  const keepForBackward = config.effective.promptGradientOverNetwork;
  const fwdQueue = new RunQueue<F32, { output: F32; saved?: Record<string, Tensor> }>({
    run: async (items) => {
      if (mode === "save-activations") {
        // saved activations hold batch-dependent shape values: one run per request
        const out = [];
        for (const it of items) out.push(await bundle.bodyForwardSaving(it));
        return out;
      }
      return runGrouped(items, (x) => bundle.bodyForward(x)).then((r) => r.map((output) => ({ output })));
    },
  });
  const bwdQueue = new RunQueue<{ entry: Record<string, Tensor>; grad: F32 }, F32>({
    run: async (items) => {
      if (mode === "save-activations") {
        const out = [];
        for (const it of items) out.push(await bundle.bodyBackwardSaved(it.entry, it.grad));
        return out;
      }
      const results: F32[] = new Array(items.length);
      for (const group of groupBy(items, (it) => rowShapeKey(it.entry[bundle.headOutput]!))) {
        const members = group.map((i) => items[i]!);
        const h = concatBatch(members.map((m) => m.entry[bundle.headOutput]!));
        const g = concatBatch(members.map((m) => m.grad));
        const parts = splitBatch(
          await bundle.bodyBackward(h, g),
          members.map((m) => m.grad.dims[0]!),
        );
        group.forEach((i, k) => (results[i] = parts[k]!));
      }
      return results;
    },
  });

  const subjects = jobSubjects(config.names.job);
  const common = {
    job: config.names.job,
    queue: bodyQueueGroup(config.names.job),
    isKnownClient: o.isKnownClient,
    ledger: o.ledger,
    log: (e: Record<string, unknown>): void =>
      o.logger.log(e.level === "error" ? "error" : "warn", String(e.event), e),
  };
  const forward = await serveFrames(o.nc, {
    ...common,
    subject: subjects.bodyForward,
    expect: [specOf(bundle, "body-in")],
    handler: async (req: DecodedFrame): Promise<ReplyInit> => {
      const t = tensorByName(req, bundle.headOutput);
      const headOut = f32Tensor(t.data as Float32Array, t.shape) as F32;
      const { output, saved } = await fwdQueue.submit(headOut);
      if (keepForBackward) {
        const h = req.header;
        stash.put(stashKey(h.client, h.round, h.step), {
          batch: headOut.dims[0]!,
          tensors: saved ?? { [bundle.headOutput]: headOut },
        });
      }
      return {
        kind: "activation",
        tensors: [
          {
            name: bundle.bodyOutput,
            dtype: "float32",
            shape: output.dims,
            data: output.data,
            codec: config.compression.activationsDown,
          },
        ],
      };
    },
  });
  const backward = await serveFrames(o.nc, {
    ...common,
    subject: subjects.bodyBackward,
    expect: [specOf(bundle, "body-out")],
    handler: async (req: DecodedFrame): Promise<ReplyInit> => {
      const h = req.header;
      const t = tensorByName(req, gradName(bundle.bodyOutput));
      const entry = stash.take(stashKey(h.client, h.round, h.step));
      if (entry === undefined || entry.batch !== t.shape[0]) {
        o.logger.log("warn", "stash-miss", { client: h.client, round: h.round, step: h.step });
        return { kind: "gradient", meta: { missing: true } };
      }
      const grad = await bwdQueue.submit({
        entry: entry.tensors,
        grad: f32Tensor(t.data as Float32Array, t.shape) as F32,
      });
      return {
        kind: "gradient",
        tensors: [
          {
            name: gradName(bundle.headOutput),
            dtype: "float32",
            shape: grad.dims,
            data: grad.data,
            codec: config.compression.gradientsDown,
          },
        ],
      };
    },
  });
  return {
    forward,
    backward,
    stash,
    groupSizes: { forward: fwdQueue.groupSizes, backward: bwdQueue.groupSizes },
    async stop() {
      await Promise.all([forward.stop(), backward.stop()]);
    },
  };
}

/** Runs items grouped by row shape, one concatenated run per group. */
async function runGrouped(items: readonly F32[], run: (x: F32) => Promise<F32>): Promise<F32[]> {
  const results: F32[] = new Array(items.length);
  for (const group of groupBy(items, rowShapeKey)) {
    const out = await run(concatBatch(group.map((i) => items[i]!)) as F32);
    const parts = splitBatch(
      out,
      group.map((i) => items[i]!.dims[0]!),
    );
    group.forEach((i, k) => (results[i] = parts[k]!));
  }
  return results;
}
