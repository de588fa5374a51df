// A client's requests to its job's server: frames stamped with the job, the client and a step number
// (the idempotency key), counted in the client's traffic ledger, their retries logged, their latency
// (retries included) told to the process's observer.
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  type DecodedFrame,
  type FrameInit,
  type ObserverError,
  type RetryInfo,
  type TrafficLedger,
} from "@sfprompt/protocol";
import { observerErrorsTo, type Logger } from "../runtime/logger.js";
import { observeRequests, type RequestObserver } from "../runtime/request-ops.js";
import { requestAcrossReconnects, type Reconnects, type ResendInfo } from "./reconnects.js";

export class ServerLink {
  #step = Math.floor(Math.random() * 0x40000000);
  constructor(
    readonly nc: NatsConnection,
    readonly config: RunConfig,
    readonly client: string,
    readonly ledger: TrafficLedger,
    readonly signal: AbortSignal | undefined,
    readonly logger: Logger,
    readonly reconnects: Reconnects,
    readonly onRequest?: RequestObserver,
  ) {}

  /** Logs a request's retry: its bytes are sent again and counted again, so a user should see why. */
  readonly onRetry = (r: RetryInfo): void =>
    logSentAgain(this.logger, "request-retry", r, {
      attempt: r.attempt,
      requestBytes: r.requestBytes,
      error: r.error,
    });

  /** Logs a request sent again at a reconnect: its reply went with the old connection. */
  readonly onResend = (r: ResendInfo): void =>
    logSentAgain(this.logger, "request-resent", r, {
      server: r.server,
      hint: "NATS reconnected while this request waited; it is sent again instead of waiting out its timeout",
    });

  /** A metrics hook that threw, in the client's log (not a process warning). */
  readonly onObserverError = (error: ObserverError): void => observerErrorsTo(this.logger)(error);

  nextStep(): number {
    // a random start per process: a restarted client never repeats the idempotency key of its last run
    this.#step = (this.#step + 1) % 0x100000000;
    return this.#step;
  }

  request(
    subject: string,
    init: Omit<FrameInit, "job" | "client" | "step">,
    timeoutMs?: number,
    onRetry: (r: RetryInfo) => void = this.onRetry,
  ): Promise<DecodedFrame> {
    const timeout = timeoutMs ?? this.config.transport.requestTimeoutSeconds * 1000;
    return requestAcrossReconnects(
      this.nc,
      subject,
      { ...init, job: this.config.names.job, client: this.client, step: this.nextStep() },
      {
        ledger: this.ledger,
        timeoutMs: timeout,
        onRetry,
        onObserverError: this.onObserverError,
        ...observeRequests(this.config.names.job, this.onRequest),
        // the client's own signal, not AbortSignal.any of it: a signal that makes stays listed in the
        // client's long-lived sources until they abort (Node 20), ~50 bytes a request; the
        // requester removes the listeners it adds (ADR 0004 amendment 3)
        ...(this.signal ? { signal: this.signal } : {}),
      },
      this.reconnects,
      this.onResend,
    );
  }
}

/** A request sent again (a retry, a resend at a reconnect): a warning naming it, then why. */
function logSentAgain(
  logger: Logger,
  event: "request-retry" | "request-resent",
  r: Pick<RetryInfo, "subject" | "round" | "kind">,
  why: Record<string, unknown>,
): void {
  logger.log("warn", event, { subject: r.subject, round: r.round, kind: r.kind, ...why });
}
