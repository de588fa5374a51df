// NATS connections by URL, opened on first use and kept: the operator talks to the bundled NATS and to
// any NATS a job names. A URL that cannot be reached yields an error now and is tried again later.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";

export class NatsPool {
  private readonly conns = new Map<string, Promise<NatsConnection>>();
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly connectTimeoutMs: number,
  ) {}

  /** A live connection to `url`; rejects when NATS cannot be reached (the next call tries again). */
  get(url: string): Promise<NatsConnection> {
    if (this.closed) return Promise.reject(new Error("the NATS pool is closed (operator shutting down)"));
    const existing = this.conns.get(url);
    if (existing) return existing;
    const p = connect({
      servers: url.split(","),
      name: "sfprompt-operator",
      timeout: this.connectTimeoutMs,
      maxReconnectAttempts: -1,
    });
    this.conns.set(url, p);
    p.then(
      (nc) => {
        this.log.info("connected to NATS", { url });
        nc.closed().then(() => this.conns.delete(url));
      },
      () => this.conns.delete(url),
    );
    return p;
  }

  /**
   * Drains every connection (pending messages are delivered, subscriptions end). One that cannot be
   * drained (its NATS is unreachable: drain() rejects, the connection stays open) is closed: it would
   * otherwise go on reconnecting after the operator stopped, for ever (maxReconnectAttempts -1).
   */
  async drain(): Promise<void> {
    this.closed = true;
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(
      all.map(async (p) => {
        const nc = await p.catch(() => undefined);
        if (!nc || nc.isClosed()) return;
        try {
          await nc.drain();
        } catch (err) {
          this.log.warn("NATS drain failed; closing the connection", { err });
          if (!nc.isClosed())
            await nc.close().catch((e: unknown) => this.log.warn("NATS close failed", { err: e }));
        }
      }),
    );
  }
}
