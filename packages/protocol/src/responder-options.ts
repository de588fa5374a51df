// What a frame responder is given (its subject, job, handler and limits) and what it counts.
import type { RemoteErrorCode } from "./errors.js";
import type { TensorSpec } from "./expect.js";
import type { DecodedFrame } from "./frame.js";
import type { FrameMeta } from "./header-schema.js";
import type { ReassemblyLimits } from "./reassembly.js";
import type { ResponseObservation } from "./request-outcome.js";
import type { FrameKind, OutgoingTensor } from "./tensor.js";
import type { TrafficLedger } from "./traffic-ledger.js";

/** What a handler answers; job, client, round and step are copied from the request. */
export interface ReplyInit {
  readonly kind?: FrameKind;
  readonly meta?: FrameMeta;
  readonly tensors?: readonly OutgoingTensor[];
}

export type FrameHandler = (request: DecodedFrame) => Promise<ReplyInit> | ReplyInit;

export interface ResponderOptions {
  readonly subject: string;
  /** Queue group, so replicas share the load (see bodyQueueGroup). */
  readonly queue?: string;
  /** The job this responder serves; frames for any other job get UnknownJobError. */
  readonly job: string;
  /** Clients of the job; others get UnknownClientError (default: every client is accepted). */
  readonly isKnownClient?: (client: string) => boolean;
  /** Tensors every request must carry (checked before the handler runs). */
  readonly expect?: readonly TensorSpec[];
  readonly handler: FrameHandler;
  readonly ledger?: TrafficLedger;
  readonly limits?: ReassemblyLimits;
  /** Structured log sink (one object per event); default: none. */
  readonly log?: (event: Record<string, unknown>) => void;
  /** Called for every request answered, with its handling time and outcome (for latency metrics). */
  readonly observe?: (response: ResponseObservation) => void;
  /** Called for every error reply as it is counted (stats().errors), with its code: live refusal counts. */
  readonly onBadFrame?: BadFrameObserver;
}

/** Told of every message a responder refused (an error reply), by the reply's code. */
export type BadFrameObserver = (code: RemoteErrorCode) => void;

export interface ResponderStats {
  /** Messages received, valid or not. */
  messages: number;
  /** Requests whose handler ran. */
  handled: number;
  /** Retries answered from the reply cache. */
  replayed: number;
  errors: Partial<Record<RemoteErrorCode, number>>;
}
