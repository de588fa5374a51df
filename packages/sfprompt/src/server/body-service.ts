// The body service: forward and backward through the frozen body for every client of a job, on the
// job's body subjects (queue group, so replicas share load). Concurrent requests with the same row
// shape share one session run (recompute variant); the forward's activations wait in a bounded stash
// for the backward.
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import type { Tensor } from "@sfprompt/engine";
import {
  FrameShapeError,
  bodyQueueGroup,
  frameRef,
  jobSubjects,
  serveFrames,
  tensorByName,
  type DecodedFrame,
  type FrameResponder,
  type ReplyInit,
  type BadFrameObserver,
  type TensorSpec,
  type TrafficLedger,
} from "@sfprompt/protocol";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import { f32Tensor } from "../bundle/tensors.js";
import { gradName } from "../client/body-link.js";
import { responderLog, type Logger } from "../runtime/logger.js";
import { observeResponses, type RequestObserver } from "../runtime/request-ops.js";
import { concatBatch, concatRecords, groupBy, recordShapeKey, splitBatch } from "./batch-tensors.js";
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
  /** Told every body request answered, with its handling time (forward or backward). */
  readonly onRequest?: RequestObserver;
  /** Told every error reply (a bad frame, an unknown client), as it is sent. */
  readonly onBadFrame?: BadFrameObserver;
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
/** The body's inputs of one request: a_h and, for text models, the attention masks. */
type BodyFeeds = Record<string, Tensor>;

function freeDims(shape: readonly (number | string | null)[]): (number | null)[] {
  return shape.map((d, i) => (i === 0 || typeof d !== "number" ? null : d));
}

/** What a forward request must carry: a_h (float32) and each mask the body reads (int64). */
function forwardSpecs(bundle: PartitionBundle): TensorSpec[] {
  const body = bundle.manifest.partitions.find((p) => p.name === "body")!;
  const h = body.inputs.find((i) => i.name === bundle.headOutput);
  return [
    { name: bundle.headOutput, dtype: "float32", shape: freeDims(h?.shape ?? []) },
    ...bundle.bodyMasks.map((name) => ({
      name,
      dtype: "int64" as const,
      shape: freeDims(body.inputs.find((i) => i.name === name)?.shape ?? []),
    })),
  ];
}

function backwardSpec(bundle: PartitionBundle): TensorSpec {
  const body = bundle.manifest.partitions.find((p) => p.name === "body")!;
  return {
    name: gradName(bundle.bodyOutput),
    dtype: "float32",
    shape: freeDims(body.outputs[0]?.shape ?? []),
  };
}

/** a_h and the masks of a request; masks must have a_h's rows and its tokens less the prompt. */
function feedsOf(bundle: PartitionBundle, req: DecodedFrame): BodyFeeds {
  const t = tensorByName(req, bundle.headOutput);
  const feeds: BodyFeeds = { [bundle.headOutput]: f32Tensor(t.data as Float32Array, t.shape) };
  const prompts = bundle.manifest.options.promptLength;
  for (const name of bundle.bodyMasks) {
    const m = tensorByName(req, name);
    if (m.shape[0] !== t.shape[0] || m.shape[1]! + prompts !== t.shape[1]) {
      throw new FrameShapeError(
        `mask ${name} is [${m.shape.join(", ")}] but ${bundle.headOutput} [${t.shape.join(", ")}] needs [${t.shape[0]}, ${t.shape[1]! - prompts}] (its tokens less the ${prompts} prompts)`,
        { frame: frameRef(req.header), field: `tensors.${name}` },
      );
    }
    feeds[name] = { dtype: "int64", dims: [...m.shape], data: m.data };
  }
  return feeds;
}

/** Starts the forward and backward responders of the job's body. */
export async function startBodyService(o: BodyServiceOptions): Promise<BodyService> {
  const { bundle, config } = o;
  const mode = o.mode ?? "recompute";
  const stash = new ActivationStash(o.stashEntries ?? 256);
  const keepForBackward = config.effective.promptGradientOverNetwork;
  const split = (f: BodyFeeds): [Tensor, BodyFeeds] => {
    const { [bundle.headOutput]: h, ...masks } = f;
    return [h!, masks];
  };
  const fwdQueue = new RunQueue<BodyFeeds, { output: F32; saved?: Record<string, Tensor> }>({
    run: async (items) => {
      if (mode === "save-activations") {
        // saved activations hold batch-dependent shape values: one run per request
        const out = [];
        for (const it of items) out.push(await bundle.bodyForwardSaving(...split(it)));
        return out;
      }
      return runGrouped(items, (f) => bundle.bodyForward(...split(f))).then((r) =>
        r.map((output) => ({ output })),
      );
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
      for (const group of groupBy(items, (it) => recordShapeKey(it.entry))) {
        const members = group.map((i) => items[i]!);
        const [h, masks] = split(concatRecords(members.map((m) => m.entry)));
        const g = concatBatch(members.map((m) => m.grad));
        const parts = splitBatch(
          await bundle.bodyBackward(h, g, masks),
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
    log: responderLog(o.logger),
    ...observeResponses(config.names.job, o.onRequest),
    ...(o.onBadFrame ? { onBadFrame: o.onBadFrame } : {}),
  };
  const forward = await serveFrames(o.nc, {
    ...common,
    subject: subjects.bodyForward,
    expect: forwardSpecs(bundle),
    handler: async (req: DecodedFrame): Promise<ReplyInit> => {
      const feeds = feedsOf(bundle, req);
      const { output, saved } = await fwdQueue.submit(feeds);
      if (keepForBackward) {
        const h = req.header;
        stash.put(stashKey(h.client, h.round, h.step), {
          batch: feeds[bundle.headOutput]!.dims[0]!,
          tensors: saved ?? feeds,
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
    expect: [backwardSpec(bundle)],
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

/** Runs items grouped by row shapes, one concatenated run per group. */
async function runGrouped(items: readonly BodyFeeds[], run: (f: BodyFeeds) => Promise<F32>): Promise<F32[]> {
  const results: F32[] = new Array(items.length);
  for (const group of groupBy(items, recordShapeKey)) {
    const members = group.map((i) => items[i]!);
    const out = await run(concatRecords(members));
    const parts = splitBatch(
      out,
      members.map((m) => Object.values(m)[0]!.dims[0]!),
    );
    group.forEach((i, k) => (results[i] = parts[k]!));
  }
  return results;
}
