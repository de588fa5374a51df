// The events of a server that goes on from a checkpoint (ADR 0046): where it resumed (run.resumed)
// and the rounds up to that checkpoint, from its history (run.history).
import { z } from "zod";
import { count, eventBase, EventBytesSchema, eventName, finite } from "./event-fields.js";

/**
 * The server goes on from a checkpoint instead of round 1 (ADR 0046): its own after a restart, or
 * another job's (spec.output.resumeFrom, ADR 0044). Published once per server start that resumes,
 * before its first round: consumers know at once where the run stands, not only when the next round
 * finishes. Not published by older servers, nor by a run that starts from the initial parameters.
 */
export const RunResumedSchema = z
  .object({
    ...eventBase,
    type: z.literal("run.resumed"),
    /** The checkpoint's round: the rounds up to it are done, the run goes on with the next one. */
    round: z.number().int().min(1),
    /** Object Store bucket and object name of the checkpoint resumed from. */
    bucket: z.string().min(1),
    object: z.string().min(1),
    /**
     * Set when the checkpoint is another job's (spec.output.resumeFrom): that job's name and bucket.
     * Absent when the job resumes from a checkpoint of its own.
     */
    from: z.object({ job: z.string().min(1).max(253), bucket: z.string().min(1) }).optional(),
    /**
     * The rounds this job took over from another job (ADR 0044, amendment 2): rounds 1 to `round` were
     * trained by `job`. Set when it goes on from that job's checkpoint and on every restart after it
     * (carried in its checkpoints); absent for a job that trained all its rounds itself.
     */
    inherited: z.object({ job: z.string().min(1).max(253), round: z.number().int().min(1) }).optional(),
    /**
     * The checkpoint round's loss and accuracy as its round.finished gave them (accuracy: the last
     * evaluated one), from the checkpoint's round history, so that a consumer that did not see that
     * event (one that stopped as the round finished) can show them (ADR 0046, amendment 3). Absent
     * from older servers, and when the checkpoint's history lacks the round.
     */
    loss: finite.optional(),
    accuracy: z.number().min(0).max(1).optional(),
    /**
     * The best held-out accuracy of the job's own rounds up to the checkpoint's (not those `inherited`
     * from another job), each round's as its round.finished gave it, and the earliest round of it,
     * from the checkpoint's history: a consumer whose stream no longer holds those rounds keeps the
     * best of them (ADR 0046, amendment 5). Absent from older servers, and when the job trained none
     * of those rounds itself.
     */
    best: z.object({ round: z.number().int().min(1), accuracy: z.number().min(0).max(1) }).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.best !== undefined && e.best.round > e.round)
      ctx.addIssue({
        code: "custom",
        path: ["best", "round"],
        message: `is ${e.best.round}, past the checkpoint's round ${e.round}: the best is of the rounds up to it`,
      });
  });

/**
 * One round of the checkpoint's history in run.history (ADR 0046, amendment 6): the fields its
 * round.finished gave (accuracy: the last evaluated one for a round without evaluation; samples:
 * the kept samples), and when the round was aggregated (absent in checkpoints of older servers).
 */
export const HistoryRoundSchema = z.object({
  round: z.number().int().min(1),
  loss: finite,
  accuracy: z.number().min(0).max(1),
  participants: z.array(eventName),
  samples: count,
  bytes: EventBytesSchema,
  durationMs: count,
  finishedAt: z.iso.datetime({ offset: true }).optional(),
});
export type HistoryRound = z.infer<typeof HistoryRoundSchema>;

/**
 * The rounds up to the checkpoint a server goes on from, from the checkpoint's history (ADR 0046,
 * amendment 6), so that a consumer whose stream no longer holds their round.finished (a lost or
 * expired stream) can show them. History, not news: these rounds finished before this server
 * started, and consumers must not take them as rounds finished now. Published before run.resumed,
 * once per server start that resumes, split into events of ascending round ranges that each fit a
 * NATS message; only the job's own rounds (not those `inherited` from another job). Not published
 * by older servers.
 */
export const RunHistorySchema = z
  .object({
    ...eventBase,
    type: z.literal("run.history"),
    /** The round of the checkpoint the server goes on from (run.resumed's `round`). */
    round: z.number().int().min(1),
    /** Rounds of the checkpoint's history, ascending, none past `round`. */
    rounds: z.array(HistoryRoundSchema).min(1).max(100_000),
  })
  .superRefine((e, ctx) => {
    e.rounds.forEach((r, i) => {
      if (r.round > e.round)
        ctx.addIssue({
          code: "custom",
          path: ["rounds", i, "round"],
          message: `is ${r.round}, past the checkpoint's round ${e.round}: the history is of the rounds up to it`,
        });
      else if (i > 0 && r.round <= e.rounds[i - 1]!.round)
        ctx.addIssue({
          code: "custom",
          path: ["rounds", i, "round"],
          message: `is ${r.round}, not after the round before it (${e.rounds[i - 1]!.round}): the rounds are ascending`,
        });
    });
  });
