// The runtime's control messages: what the frames' meta says on the round and params subjects,
// validated with zod at the boundary. Tensors travel in the frames themselves (docs/runtime.md).
import { z } from "zod";
import type { DecodedFrame, FrameMeta } from "@sfprompt/protocol";
import { ControlMessageError } from "./errors.js";

const round = z.number().int().min(0);

/** Client → server on `round.report`: wait for work (poll) or say what it is doing (state). */
export const ReportRequestSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("poll"), lastRound: round }),
  z.object({
    op: z.literal("state"),
    state: z.enum(["local-update", "pruning", "split-training", "uploading", "failed"]),
    round,
    reason: z.string().optional(),
  }),
]);
export type ReportRequest = z.infer<typeof ReportRequestSchema>;

/** Server → client reply to a poll: train round r, keep waiting, or stop (job over, or failed). */
/**
 * Every reply of a server that knows its run attempt carries it (ADR 0036): the client ignores the end
 * events of any other attempt (a replaced server's late job.failed).
 */
const attempt = { attempt: z.string().optional() };
export const PollReplySchema = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("train"),
    round,
    deadline: z.string(),
    /**
     * The rounds the server runs: the length of the learning-rate schedule (ADR 0024). A running client
     * keeps the config it started with (ADR 0040), so a raised spec.training.rounds reaches it only
     * here; a client of an older server, which leaves it out, uses its own config's rounds.
     */
    rounds: z.number().int().min(1).optional(),
    ...attempt,
  }),
  z.object({ action: z.literal("wait"), ...attempt }),
  z.object({ action: z.literal("done"), ...attempt }),
  z.object({ action: z.literal("ok"), ...attempt }),
  /** The job failed: a server that lingers after its failure says so to the clients that poll it. */
  z.object({ action: z.literal("failed"), reason: z.string(), message: z.string(), ...attempt }),
]);
export type PollReply = z.infer<typeof PollReplySchema>;

/** Client → server on `params.global`: the global parameters of round r. */
export const ParamsRequestSchema = z.object({ round });
/** Reply: the tensors, or `closed` when the client is not (or no longer) part of the round. */
export const ParamsReplySchema = z.object({ round, status: z.enum(["ok", "closed"]) });

/** Client → server on `params.upload`, with the parameters as tensors. */
export const UploadMetaSchema = z.object({
  round,
  /** |D_k|: the FedAvg weight. */
  samples: z.number().int().min(0),
  /** Samples split training ran on (after pruning). */
  kept: z.number().int().min(0),
  /** Mean loss of the split (or whole-model) steps; of the local-loss steps when none ran. */
  loss: z.number(),
  localLoss: z.number().optional(),
  /** Client FLOPs spent in the round (graph FLOPs × samples). */
  flops: z.number().min(0),
});
export type UploadMeta = z.infer<typeof UploadMetaSchema>;

export const UploadReplySchema = z.object({
  accepted: z.boolean(),
  reason: z.string().optional(),
});
export type UploadReply = z.infer<typeof UploadReplySchema>;

/** Reply of the body backward when the forward's stash entry is gone: redo the forward. */
export const BackwardReplySchema = z.object({ missing: z.boolean().optional() });

/** Parses the meta of `frame` with `schema`, or throws ControlMessageError naming the subject. */
export function readMeta<T>(schema: z.ZodType<T>, frame: DecodedFrame, what: string): T {
  const parsed = schema.safeParse(frame.header.meta);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ControlMessageError(
    `${what} from ${frame.header.client || "server"} has invalid meta at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    { cause: parsed.error },
  );
}

/** A meta object as frames carry it (scalars only). */
export function meta(value: Record<string, string | number | boolean | undefined>): FrameMeta {
  const out: FrameMeta = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out;
}
