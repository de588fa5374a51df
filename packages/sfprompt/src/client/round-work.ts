// The client's exchanges with its server in each turn of its loop: a poll for work, and a round it
// was selected for (fetch the global parameters, train, upload the update).
import { DataPlaneError, jobSubjects } from "@sfprompt/protocol";
import {
  ParamsReplySchema,
  PollReplySchema,
  UploadReplySchema,
  meta,
  readMeta,
  type PollReply,
} from "../runtime/messages.js";
import type { ParamSet } from "../training/param-set.js";
import type { ClientContext, RoundTrainer } from "./client-context.js";
import type { JobEndWatch } from "./job-end.js";
import type { ServerLink } from "./server-link.js";
import type { ServerWait } from "./server-wait.js";
import type { RoundUpdate } from "./trainer.js";

/** One poll of the server for work; a poll the server does not answer is a wait (or the job's end). */
export async function pollForWork(
  link: ServerLink,
  subject: string,
  lastRound: number,
  retryMs: number,
  waiting: ServerWait,
  ending: JobEndWatch,
): Promise<PollReply> {
  try {
    // the server holds a poll up to its pollWaitMs; the request timeout covers that and more. Its
    // retries are expected while the server is away: ServerWait says so once, not per retry.
    const reply = await link.request(
      subject,
      { kind: "control", round: lastRound + 1, meta: { op: "poll", lastRound } },
      undefined,
      (r) =>
        link.logger.log("debug", "request-retry", { subject: r.subject, attempt: r.attempt, error: r.error }),
    );
    waiting.answered();
    const work = readMeta(PollReplySchema, reply, "poll reply");
    ending.learnAttempt(work.attempt);
    // a server that lingers after its job failed says so to every poll
    if (work.action === "failed") throw ending.serverFailed(work.reason, work.message, work.attempt);
    return work;
  } catch (error) {
    if (!(error instanceof DataPlaneError) || link.signal?.aborted) throw error;
    waiting.failed(error);
    const end = await ending.checkStore();
    if (end?.kind === "finished") return { action: "done" };
    if (end?.kind === "failed") throw end.error;
    await new Promise((r) => setTimeout(r, retryMs));
    return { action: "wait" };
  }
}

/**
 * A round the client was selected for: fetches the global parameters, trains and uploads the
 * update; undefined when the round closed first or the server refused the upload.
 */
export async function runSelectedRound(
  link: ServerLink,
  ctx: ClientContext,
  work: Extract<PollReply, { action: "train" }>,
  train: RoundTrainer,
): Promise<RoundUpdate | undefined> {
  const { round } = work;
  const subjects = jobSubjects(ctx.config.names.job);
  const reply = await link.request(subjects.paramsGlobal, { kind: "control", round, meta: { round } });
  if (readMeta(ParamsReplySchema, reply, "params reply").status !== "ok") return undefined;
  const global: ParamSet = new Map(
    reply.tensors.map((t) => [t.name, { data: t.data as Float32Array, shape: [...t.shape] }]),
  );
  // a running client keeps its config (ADR 0040): the schedule follows the rounds its server runs
  const update = await train(round, global, work.rounds ?? ctx.config.training.rounds);
  await ctx.report({ op: "state", state: "uploading", round });
  const codec = ctx.config.compression.parametersUp;
  const up = await link.request(subjects.paramsUpload, {
    kind: "parameters",
    round,
    meta: meta({
      round,
      samples: update.samples,
      kept: update.kept,
      loss: update.loss,
      localLoss: update.localLoss,
      flops: update.flops,
    }),
    tensors: [...update.params].map(([name, t]) => ({
      name,
      dtype: "float32" as const,
      shape: t.shape,
      data: t.data,
      codec,
    })),
  });
  const answer = readMeta(UploadReplySchema, up, "upload reply");
  if (!answer.accepted) {
    ctx.logger.log("warn", "upload-refused", { round, reason: answer.reason });
    return undefined;
  }
  return update;
}
