// What `sfprompt run` shows while a job runs: on a TTY, a status line redrawn in place (bar, round,
// phase, loss, accuracy, bytes); otherwise one plain line per finished round (and one for the round a
// resumed server goes on from), for logs and CI.
import type { ClientState, ProgressEvent } from "@sfprompt/protocol";
import type { RoundMetrics } from "./metrics.js";
import { formatBytes } from "@sfprompt/protocol/charts";

export interface Sink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** A text progress bar of `width` cells. */
export function bar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** Redraws one status line on a TTY; on a non-TTY prints only what `line()` is given. */
export class StatusLine {
  private shown = false;
  constructor(private readonly sink: Sink) {}

  get tty(): boolean {
    return this.sink.isTTY === true;
  }

  /** Replaces the status line (TTY only). */
  status(text: string): void {
    if (!this.tty) return;
    const cols = (this.sink as { columns?: number }).columns || 120;
    this.sink.write(`\r\x1b[2K${text.slice(0, Math.max(20, cols - 1))}`);
    this.shown = true;
  }

  /** Prints a permanent line (above the status line on a TTY). */
  line(text: string): void {
    if (this.shown) this.sink.write("\r\x1b[2K");
    this.sink.write(`${text}\n`);
    this.shown = false;
  }

  clear(): void {
    if (this.shown) this.sink.write("\r\x1b[2K");
    this.shown = false;
  }
}

const PHASE_OF: Partial<Record<ClientState, string>> = {
  "local-update": "local update",
  pruning: "pruning",
  "split-training": "split training",
  uploading: "uploading",
};

type RunResumed = Extract<ProgressEvent, { type: "run.resumed" }>;

/** Where a resumed server goes on from, briefly: another job's round, or the job's own checkpoint. */
export function resumedFrom(e: RunResumed): string {
  return e.from === undefined
    ? "resumed from its own checkpoint"
    : `resumed from job ${e.from.job}'s round ${e.round}`;
}

/**
 * The plain line of a resumed server: the round it goes on from, as done, with that round's loss and
 * accuracy where the server sent them (amendment 2: the session that saw its round.finished may
 * have stopped before printing it); no bytes (ADR 0046).
 */
export function resumedLine(label: string, rounds: number, e: RunResumed): string {
  const metrics =
    e.loss === undefined || e.accuracy === undefined
      ? ""
      : ` loss=${e.loss.toFixed(4)} accuracy=${(e.accuracy * 100).toFixed(2)}%`;
  return `${label} round ${e.round}/${rounds} ${resumedFrom(e)}${metrics}`;
}

/**
 * Follows the progress events of this session's server and renders them (an earlier session's, left
 * in the job's stream, are passed over before they reach it: SessionEvents).
 */
export class JobProgressView {
  private round = 0;
  private finished = 0;
  /** What the server resumed from, shown as the phase until its first round starts. */
  private resumed: string | undefined;
  private readonly states = new Map<string, ClientState>();
  private lastLoss: number | undefined;
  private lastAccuracy: number | undefined;
  private bytes = 0;
  private roundStarted = Date.now();

  constructor(
    private readonly out: StatusLine,
    private readonly label: string,
    private readonly rounds: number,
  ) {}

  /** Forgets what the events so far showed: the job started over (a new run attempt). */
  restart(): void {
    this.round = 0;
    this.finished = 0;
    this.resumed = undefined;
    this.states.clear();
    this.lastLoss = undefined;
    this.lastAccuracy = undefined;
    this.bytes = 0;
    this.roundStarted = Date.now();
  }

  onEvent(e: ProgressEvent): void {
    switch (e.type) {
      case "run.resumed":
        // the server's own word on where it goes on from: its rounds up to it are done; no bytes
        this.round = e.round;
        this.finished = e.round;
        this.resumed = resumedFrom(e);
        if (e.loss !== undefined) this.lastLoss = e.loss;
        if (e.accuracy !== undefined) this.lastAccuracy = e.accuracy;
        this.roundStarted = Date.now();
        this.out.line(resumedLine(this.label, this.rounds, e));
        break;
      case "round.started":
        this.round = e.round;
        this.resumed = undefined;
        this.roundStarted = Date.now();
        break;
      case "client.state":
        this.states.set(e.client, e.state);
        break;
      case "round.finished":
        this.finished = e.round;
        this.lastLoss = e.loss;
        this.lastAccuracy = e.accuracy;
        this.bytes += e.bytes.up + e.bytes.down;
        this.out.line(roundLine(this.label, this.rounds, e));
        break;
      case "round.failed":
        this.out.line(`${this.label} round ${e.round}/${this.rounds} failed: ${e.reason}: ${e.message}`);
        break;
      case "server.ready":
        // CUDA asked for (the API's default) and CPU in fact: said on a cluster by the CpuFallback
        // condition, here by one line, not only in logs/server.log
        if (e.executionProvider.requested === "cuda" && e.executionProvider.actual === "cpu")
          this.out.line(cpuFallbackLine(this.label, e.fallbackReason));
        break;
      default:
        break;
    }
    this.out.status(this.statusText());
  }

  private phase(): string {
    const counts = new Map<string, number>();
    for (const s of this.states.values()) {
      const p = PHASE_OF[s];
      if (p !== undefined) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    if (this.round === 0) return "starting the processes";
    if (this.resumed !== undefined && counts.size === 0) return this.resumed;
    if (counts.size === 0) return this.finished === this.round ? "round done" : "aggregating/evaluating";
    return [...counts].map(([p, n]) => `${p} ×${n}`).join(", ");
  }

  private statusText(): string {
    const loss = this.lastLoss === undefined ? "-" : this.lastLoss.toFixed(4);
    const acc = this.lastAccuracy === undefined ? "-" : `${(this.lastAccuracy * 100).toFixed(2)}%`;
    const t = formatDuration((Date.now() - this.roundStarted) / 1000);
    return (
      `${this.label} ${bar(this.finished / this.rounds)} round ${this.round}/${this.rounds} ` +
      `${this.phase()} (${t}) | loss ${loss} acc ${acc} | ${formatBytes(this.bytes)}`
    );
  }
}

/** What a round line shows of a finished round, after its number. */
interface RoundFigures {
  readonly loss: number;
  readonly accuracy: number;
  readonly up: number;
  readonly down: number;
  readonly byKind: Readonly<Record<string, number | undefined>>;
  readonly clients: number;
  readonly durationMs: number;
}

function figures(f: RoundFigures): string {
  const kinds = Object.entries(f.byKind)
    .filter(([, v]) => (v ?? 0) > 0)
    .map(([k, v]) => `${k} ${formatBytes(v ?? 0)}`)
    .join(", ");
  return (
    `loss=${f.loss.toFixed(4)} accuracy=${(f.accuracy * 100).toFixed(2)}% bytes=${formatBytes(f.up + f.down)}` +
    `${kinds === "" ? "" : ` (${kinds})`} clients=${f.clients} time=${formatDuration(f.durationMs / 1000)}`
  );
}

/** The line for a server that was asked for CUDA and runs the body on CPU. */
function cpuFallbackLine(label: string, reason: string | undefined): string {
  const why = reason ?? "ONNX Runtime's CUDA provider is not available (docs/quickstart.md)";
  return (
    `${label}: the server runs the body on CPU, not CUDA (spec.server.executionProvider: cuda): ${why}; ` +
    "set spec.server.executionProvider: cpu to ask for CPU (spec.server.cpuFallback: false makes this an error)"
  );
}

/** The plain line of a finished round. */
export function roundLine(
  label: string,
  rounds: number,
  e: Extract<ProgressEvent, { type: "round.finished" }>,
): string {
  const f = { ...e, ...e.bytes, clients: e.participants.length };
  return `${label} round ${e.round}/${rounds} phase done ${figures(f)}`;
}

/**
 * The line of a round no session printed (an earlier session's server trained it after that session
 * stopped reading), as metrics.json records it from the checkpoint history (ADR 0041, amendment 3).
 */
export function earlierRoundLine(label: string, rounds: number, r: RoundMetrics): string {
  const f = { ...r, ...r.bytes, clients: r.clients.length };
  return `${label} round ${r.round}/${rounds} (earlier session) ${figures(f)}`;
}
