// The metric families of a server or client process: job progress (from the job's progress events),
// bytes by kind (from the runtime's TrafficLedger), request latencies, bad messages and errors.
import type { RequestObserver, RequestOp } from "@sfprompt/core";
import type {
  BadFrameObserver,
  ProgressEvent,
  RequestOutcome,
  TrafficLedger,
  TrafficObserver,
} from "@sfprompt/protocol";
import { Registry, type Counter, type Gauge, type Histogram } from "./prometheus.js";

export type { RequestOutcome } from "@sfprompt/protocol";

/** Latency buckets in seconds: body calls take ms on a GPU and seconds on a small CPU. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Which process this is, as sfprompt_process_info's labels say. */
export interface ProcessIdentity {
  role: string;
  namespace: string;
  job: string;
  client?: string;
}

export class ProcessMetrics {
  readonly registry = new Registry();
  readonly #info: Gauge;
  readonly #ready: Gauge;
  readonly #natsConnected: Gauge;
  readonly #natsRtt: Gauge;
  readonly #roundsDone: Counter;
  readonly #roundsFailed: Counter;
  readonly #round: Gauge;
  readonly #loss: Gauge;
  readonly #accuracy: Gauge;
  readonly #jobBytes: Counter;
  readonly #processBytes: Counter;
  readonly #processMessages: Counter;
  readonly #requests: Histogram;
  readonly #badMessages: Counter;
  readonly #errors: Counter;
  readonly #events: Counter;

  /**
   * `job` is the SFPromptJob's name and `namespace` its namespace (the run config's job.name and
   * job.namespace), the same `namespace` and `sfprompt_job` as on the operator's per-job series and
   * on what the chart's PodMonitor gives the pods' series; not the data-plane token.
   */
  constructor(identity: ProcessIdentity) {
    const r = this.registry;
    this.#info = r.gauge("sfprompt_process_info", "Always 1; labels say which process this is.");
    this.#ready = r.gauge("sfprompt_ready", "1 while connected to NATS and the runtime is ready, else 0.");
    this.#natsConnected = r.gauge("sfprompt_nats_connected", "1 while the NATS connection is up.");
    this.#natsRtt = r.gauge("sfprompt_nats_rtt_seconds", "NATS round-trip time measured at the last scrape.");
    this.#roundsDone = r.counter("sfprompt_rounds_done_total", "Rounds aggregated (round.finished events).");
    this.#roundsFailed = r.counter("sfprompt_rounds_failed_total", "Rounds that failed, by reason.");
    this.#round = r.gauge(
      "sfprompt_round",
      "The latest round started; after a resume, the checkpoint's round until the next one starts.",
    );
    this.#loss = r.gauge("sfprompt_loss", "Mean training loss of the latest finished round.");
    this.#accuracy = r.gauge(
      "sfprompt_accuracy",
      "Held-out accuracy (0..1) after the latest finished round.",
    );
    this.#jobBytes = r.counter(
      "sfprompt_job_bytes_total",
      "Bytes of the job's finished rounds as the server counted them, by kind (activation, gradient, parameters, control).",
    );
    this.#processBytes = r.counter(
      "sfprompt_process_bytes_total",
      "Bytes this process sent or received, by kind and direction.",
    );
    this.#processMessages = r.counter(
      "sfprompt_process_messages_total",
      "NATS messages this process sent or received, by kind and direction.",
    );
    this.#requests = r.histogram(
      "sfprompt_request_duration_seconds",
      "Data-plane requests by operation and outcome: a client's latency (retries included), a server's handling time.",
      LATENCY_BUCKETS,
    );
    this.#badMessages = r.counter(
      "sfprompt_bad_messages_total",
      "Messages refused (bad frame, bad event), by reason.",
    );
    this.#errors = r.counter("sfprompt_errors_total", "Errors the process survived, by kind.");
    this.#events = r.counter("sfprompt_events_total", "Progress events of the job seen, by type.");
    const labels: Record<string, string> = {
      role: identity.role,
      namespace: identity.namespace,
      sfprompt_job: identity.job,
    };
    if (identity.client !== undefined) labels.client = identity.client;
    this.#info.set(labels, 1);
    this.setReady(false);
    this.setNatsConnected(false);
  }

  setReady(ready: boolean): void {
    this.#ready.set({}, ready ? 1 : 0);
  }
  setNatsConnected(connected: boolean): void {
    this.#natsConnected.set({}, connected ? 1 : 0);
  }
  setNatsRtt(seconds: number): void {
    this.#natsRtt.set({}, seconds);
  }

  /** Folds one progress event of the job into the job-level families. */
  onEvent(event: ProgressEvent): void {
    this.#events.inc({ type: event.type });
    switch (event.type) {
      case "round.started":
        this.#round.set({}, event.round);
        break;
      case "run.resumed":
        // published before the resumed run's first round (ADR 0046): the rounds up to it are done
        this.#round.set({}, event.round);
        break;
      case "round.finished":
        this.#roundsDone.inc();
        this.#loss.set({}, event.loss);
        this.#accuracy.set({}, event.accuracy);
        for (const [kind, bytes] of Object.entries(event.bytes.byKind))
          if (bytes !== undefined) this.#jobBytes.inc({ kind }, bytes);
        break;
      case "round.failed":
        this.#roundsFailed.inc({ reason: event.reason });
        break;
      case "job.finished":
        this.#loss.set({}, event.loss);
        this.#accuracy.set({}, event.accuracy);
        break;
      default:
        break;
    }
  }

  /**
   * Reports `ledger`'s totals (bytes and messages by kind and direction) at every scrape: for a ledger
   * this process did not give onTraffic to (the two together would count its messages twice).
   */
  attachLedger(ledger: TrafficLedger): void {
    this.registry.onCollect(() => {
      const sums = new Map<string, { kind: string; direction: string; bytes: number; messages: number }>();
      for (const e of ledger.snapshot().entries) {
        const k = `${e.kind}/${e.direction}`;
        const s = sums.get(k) ?? { kind: e.kind, direction: e.direction, bytes: 0, messages: 0 };
        s.bytes += e.bytes;
        s.messages += e.messages;
        sums.set(k, s);
      }
      for (const s of sums.values()) {
        this.#processBytes.setTotal({ kind: s.kind, direction: s.direction }, s.bytes);
        this.#processMessages.setTotal({ kind: s.kind, direction: s.direction }, s.messages);
      }
    });
  }

  observeRequest(op: RequestOp, seconds: number, outcome: RequestOutcome): void {
    this.#requests.observe({ op, outcome }, seconds);
  }

  /** observeRequest as the runtime's onRequest option (runClient, startServer). */
  readonly onRequest: RequestObserver = (op, seconds, outcome) => this.observeRequest(op, seconds, outcome);

  badMessage(reason: string, count = 1): void {
    this.#badMessages.inc({ reason }, count);
  }

  /**
   * The runtime's onTraffic option (runClient, startServer): every message its ledger counts is added
   * as it is counted, so the bytes are live during a long job and never added again at its end.
   */
  readonly onTraffic: TrafficObserver = (key, bytes, messages) => {
    this.#processBytes.inc({ kind: key.kind, direction: key.direction }, bytes);
    this.#processMessages.inc({ kind: key.kind, direction: key.direction }, messages);
  };

  /** The server's onBadFrame option: each error reply of its services, under its code, as it is sent. */
  readonly onBadFrame: BadFrameObserver = (code) => this.badMessage(code);

  error(kind: string): void {
    this.#errors.inc({ kind });
  }

  render(): string {
    return this.registry.render();
  }
}
