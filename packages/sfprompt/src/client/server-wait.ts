// How a client says that it waits for its server: one warning when polls start to fail (the server is
// not up yet, or restarts), a reminder a minute, and one line when it answers again, instead of a
// warning for every retried poll (three a second per client while a server loads its model).
import type { Logger } from "../runtime/logger.js";

export class ServerWait {
  #since: number | undefined;
  #lastWarnAt: number | undefined;

  constructor(
    readonly logger: Logger,
    readonly subject: string,
    readonly remindMs = 60_000,
  ) {}

  /** A poll got no answer (no responders, timeout). */
  failed(error: unknown): void {
    const now = Date.now();
    this.#since ??= now;
    if (this.#lastWarnAt !== undefined && now - this.#lastWarnAt < this.remindMs) {
      this.logger.log("debug", "poll-failed", { error });
      return;
    }
    this.#lastWarnAt = now;
    this.logger.log("warn", "server-unreachable", {
      subject: this.subject,
      waitingMs: now - this.#since,
      error,
      hint: "no answer from the job's server: it is not running yet or restarts; this client keeps polling",
    });
  }

  /** A poll was answered: the end of a wait, if there was one. */
  answered(): void {
    if (this.#since === undefined) return;
    this.logger.log("info", "server-reached", { subject: this.subject, afterMs: Date.now() - this.#since });
    this.#since = undefined;
    this.#lastWarnAt = undefined;
  }
}
