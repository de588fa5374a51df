// Signal handling: the first SIGTERM/SIGINT aborts the work and starts the grace timer; a second
// signal, or the timer, forces the exit. Handlers are removed afterwards, so the shell can also run
// inside a test or CLI process.
import type { Logger } from "./logger.js";

export type StopReason = "signal" | "fatal" | "nats-closed";

export class Shutdown {
  readonly #controller = new AbortController();
  readonly #graceMs: number;
  readonly #logger: () => Logger;
  #forced!: (why: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #reason: StopReason | undefined;
  /** Resolves when shutdown must not wait any longer. */
  readonly forced: Promise<string>;
  readonly #onSignal = (signal: NodeJS.Signals): void => this.#signal(signal);

  constructor(graceMs: number, logger: () => Logger) {
    this.#graceMs = graceMs;
    this.#logger = logger;
    this.forced = new Promise((resolve) => (this.#forced = resolve));
    process.on("SIGTERM", this.#onSignal);
    process.on("SIGINT", this.#onSignal);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  get reason(): StopReason | undefined {
    return this.#reason;
  }

  /** Aborts the work (once) and starts the grace timer. */
  stop(reason: StopReason, fields: Record<string, unknown> = {}): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#logger().log(reason === "signal" ? "info" : "error", "shutdown.started", {
      reason,
      graceMs: this.#graceMs,
      ...fields,
    });
    this.startGrace();
    this.#controller.abort(new Error(`shutdown: ${reason}`));
  }

  /** Starts the grace timer without aborting (the work ended by itself and cleanup begins). */
  startGrace(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(
      () => this.#forced(`cleanup took longer than the grace period (${this.#graceMs} ms)`),
      this.#graceMs,
    );
    this.#timer.unref();
  }

  dispose(): void {
    process.off("SIGTERM", this.#onSignal);
    process.off("SIGINT", this.#onSignal);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#reason !== undefined) {
      this.#logger().log("warn", "shutdown.second-signal", { signal });
      this.#forced(`second signal ${signal}`);
      return;
    }
    this.stop("signal", { signal });
  }
}
