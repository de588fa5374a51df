// The round coordinator: resumes from the last checkpoint (run-start.ts), selects clients per round,
// waits for their uploads (quorum + round timeout), aggregates with FedAvg, evaluates, and decides
// when a round is checkpointed; run-records.ts stores and announces what the run leaves behind.
import type { RunConfig } from "@sfprompt/api";
import {
  EMPTY_TRAFFIC_SUMMARY,
  summarizeTrafficThrough,
  trafficSince,
  type JobResources,
  type RoundContribution,
  type TrafficLedger,
  type TrafficSummary,
} from "@sfprompt/protocol";
import { QuorumNotReachedError } from "../runtime/errors.js";
import type { Logger } from "../runtime/logger.js";
import { cloneParams, type ParamSet } from "../training/param-set.js";
import type { Inherited, RoundMetrics } from "./checkpoints.js";
import type { CoordinatorView } from "./control-service.js";
import type { Evaluation } from "./evaluate.js";
import type { EventPublisher } from "./events.js";
import { ClientRegistry } from "./registry.js";
import { roundContributions, roundMetrics } from "./round-metrics.js";
import type { OpenBucket } from "./resume.js";
import { startRun, type ResumedRun } from "./run-start.js";
import { selectClients } from "./select-clients.js";
import { clientNames } from "../runtime/client-names.js";
import { OpenRound } from "./round.js";
import { ProgressStore } from "./progress-store.js";
import type { PendingState } from "./job-end-delivery.js";
import { announceRound, recordCheckpoint, recordFinish, type RunRecordsTarget } from "./run-records.js";

export interface CoordinatorOptions {
  readonly config: RunConfig;
  readonly ledger: TrafficLedger;
  readonly logger: Logger;
  readonly events: EventPublisher;
  readonly resources: JobResources;
  /** Starting values and layout of the global parameters. */
  readonly initial: ParamSet;
  /** Held-out evaluation of global parameters; undefined: no evaluation. */
  readonly evaluate?: (global: ParamSet) => Promise<Evaluation>;
  readonly signal?: AbortSignal;
  /** How long a poll waits for work before answering "wait" (default 2000 ms). */
  readonly pollWaitMs?: number;
  /** How long selection waits for clients.perRound ready clients before going with the quorum (default 5000 ms). */
  readonly selectionWaitMs?: number;
  /** How long a checkpoint or round-state write is retried while NATS is away (default 120 000 ms). */
  readonly storeRetryMs?: number;
  /** Opens spec.output.resumeFrom's bucket, only read (ADR 0044). */
  readonly openBucket: OpenBucket;
}

/** A round's metrics and each participant's share, before they are announced. */
interface AggregatedRound {
  readonly metrics: RoundMetrics;
  readonly contributions: RoundContribution[];
}

/** How a job ended. */
export interface JobOutcome {
  readonly rounds: RoundMetrics[];
  readonly global: ParamSet;
  /** Round of the checkpoint the run resumed from (null: started fresh). */
  readonly resumedFrom: number | null;
  /** The global parameters the run started from (the checkpoint's when it resumed). */
  readonly startedFrom: ParamSet;
  /** Newer checkpoints passed over on resume because they could not be read, newest first. */
  readonly skippedCheckpoints: string[];
  /** The attempt the run went on under (undefined: resumed from an older server's checkpoint). */
  readonly attempt: string | undefined;
  /** The rounds of `rounds` taken over from another job (ADR 0044); absent when there are none. */
  readonly inherited: Inherited | undefined;
}

export class Coordinator implements CoordinatorView {
  readonly config: RunConfig;
  readonly registry: ClientRegistry;
  readonly events: EventPublisher;
  readonly logger: Logger;
  readonly pollWaitMs: number;
  readonly signal: AbortSignal | undefined;
  #global: ParamSet;
  #open: OpenRound | undefined;
  #finished = false;
  readonly #progress: ProgressStore;
  readonly #records: RunRecordsTarget;
  #skipped: string[] = [];
  /** The ledger's sums through the last aggregated round (what the rounds so far reported). */
  #counted: TrafficSummary = EMPTY_TRAFFIC_SUMMARY;
  /** The round being run (0 before the first). */
  #round = 0;
  /** The run's attempt, stamped on its events and kept in its checkpoints. */
  #attempt: string | undefined;
  /** The rounds aggregated so far, the resumed checkpoint's included (the run result's `rounds`). */
  #history: readonly RoundMetrics[] = [];

  constructor(readonly o: CoordinatorOptions) {
    this.config = o.config;
    this.registry = new ClientRegistry(clientNames(o.config));
    this.events = o.events;
    this.logger = o.logger;
    this.pollWaitMs = o.pollWaitMs ?? 2000;
    this.signal = o.signal;
    this.#global = cloneParams(o.initial);
    this.#progress = new ProgressStore({
      resources: o.resources,
      logger: o.logger,
      budgetMs: o.storeRetryMs ?? 120_000,
      signal: o.signal,
    });
    this.#records = { config: o.config, resources: o.resources, progress: this.#progress, events: o.events };
  }

  openRound(): OpenRound | undefined {
    return this.#open;
  }
  global(): ParamSet {
    return this.#global;
  }
  finished(): boolean {
    return this.#finished;
  }
  /** The run's attempt, once the checkpoint to go on from is chosen (told to polling clients). */
  attempt(): string | undefined {
    return this.#attempt;
  }
  /**
   * The rounds aggregated so far (a failed run's too): what a lingering server answers repeated
   * uploads from (ADR 0041 amendments 9 and 12).
   */
  aggregatedRounds(): readonly RoundMetrics[] {
    return this.#history;
  }
  /** The failed round state recordFailure could not write (NATS away), if any. */
  unrecordedFailure(): PendingState | undefined {
    return this.#progress.unrecordedFailure;
  }

  /** Runs the remaining rounds of the job. */
  async run(): Promise<JobOutcome> {
    const { config } = this;
    const resumed = await this.#resume();
    const history = resumed?.history ?? [];
    this.#history = history;
    const startedFrom = cloneParams(this.#global);
    for (let round = (resumed?.round ?? 0) + 1; round <= config.training.rounds; round++) {
      const { metrics, contributions } = await this.#runRound(round);
      history.push(metrics);
      const every = config.output.checkpointEvery;
      // stored before it is announced: whoever sees round.finished of a checkpoint round (a CLI that
      // stops the job on Ctrl-C, the operator) can count on resuming from it
      if (round % every === 0 || round === config.training.rounds)
        await recordCheckpoint(this.#records, round, this.#global, history, {
          attempt: this.#attempt,
          inherited: resumed?.inherited,
        });
      announceRound(this.events, metrics, contributions, history);
    }
    await this.#finish(history, resumed?.inherited);
    return {
      rounds: history,
      global: this.#global,
      resumedFrom: resumed?.round ?? null,
      startedFrom,
      skippedCheckpoints: this.#skipped,
      attempt: this.#attempt,
      inherited: resumed?.inherited,
    };
  }

  /** Chooses where the run starts (run-start.ts) and takes over that checkpoint's parameters. */
  async #resume(): Promise<ResumedRun | null> {
    const start = await startRun({ ...this.o, progress: this.#progress });
    this.#attempt = start.attempt;
    if (start.resumed === null) return null;
    this.#global = start.resumed.params;
    this.#skipped = start.resumed.skipped;
    return start.resumed;
  }

  async #runRound(round: number): Promise<AggregatedRound> {
    for (let attempt = 0; ; attempt++) {
      const open = await this.#openRound(round, attempt);
      const reason = await open.wait(this.signal);
      open.closed = true;
      this.#open = undefined;
      this.registry.change();
      this.signal?.throwIfAborted();
      for (const c of open.selected) {
        if (!open.uploads.has(c) && this.registry.setState(c, "lost")) {
          void this.events.publish({
            type: "client.state",
            client: c,
            state: "lost",
            round,
            reason: "NoUploadBeforeDeadline",
          });
        }
      }
      const needed = Math.min(this.config.training.quorum, open.selected.length);
      if (open.uploads.size >= needed && open.uploads.size > 0) return this.#aggregate(open, reason);
      const err = new QuorumNotReachedError(round, open.uploads.size, needed);
      this.logger.log("warn", "round-failed", { round, attempt, error: err });
      void this.events.publish({
        type: "round.failed",
        round,
        reason: "QuorumNotReached",
        message: err.message,
      });
    }
  }

  async #openRound(round: number, attempt: number): Promise<OpenRound> {
    this.#round = round;
    const selected = await selectClients(
      {
        config: this.config,
        registry: this.registry,
        logger: this.logger,
        pollWaitMs: this.pollWaitMs,
        selectionWaitMs: this.o.selectionWaitMs ?? 5000,
        signal: this.signal,
      },
      round,
      attempt,
    );
    const open = new OpenRound(
      round,
      attempt,
      selected,
      this.#global,
      this.config.training.roundTimeoutSeconds * 1000,
    );
    this.#open = open;
    this.registry.change();
    this.logger.log("info", "round-started", { round, attempt, selected });
    await this.#progress.putState({
      phase: "split-training",
      round,
      selected,
      reported: [],
      startedAt: open.startedAt.toISOString(),
      deadlineAt: open.deadline.toISOString(),
    });
    void this.events.publish({
      type: "round.started",
      round,
      selected: [...selected],
      deadline: open.deadline.toISOString(),
    });
    return open;
  }

  async #aggregate(open: OpenRound, reason: string): Promise<AggregatedRound> {
    const { round } = open;
    this.#global = open.accumulator.result();
    const evaluation = this.#shouldEvaluate(round) ? await this.o.evaluate?.(this.#global) : undefined;
    // everything counted since the last round's sum, under this round or an earlier one (the polls
    // of clients that sit rounds out): every byte lands in exactly one round's totals
    const through = summarizeTrafficThrough(this.o.ledger.snapshot(), round);
    const traffic = trafficSince(through, this.#counted);
    this.#counted = through;
    const metrics = roundMetrics(open, evaluation, traffic);
    this.logger.log("info", "round-finished", {
      round,
      reason,
      loss: metrics.loss,
      accuracy: metrics.accuracy,
      up: traffic.received,
      down: traffic.sent,
    });
    return { metrics, contributions: roundContributions(open) };
  }

  #shouldEvaluate(round: number): boolean {
    const every = this.config.training.evaluation.everyRounds;
    return every > 0 && (round % every === 0 || round === this.config.training.rounds);
  }

  /** Leaves phase "failed" in the round state (best effort), for clients that missed job.failed. */
  recordFailure(reason: string, message: string): Promise<void> {
    return this.#progress.recordFailure(this.#round, reason, message);
  }

  async #finish(history: readonly RoundMetrics[], inherited: Inherited | undefined): Promise<void> {
    this.#finished = true;
    this.registry.change();
    await recordFinish(this.#records, this.#global, history, inherited);
  }
}
