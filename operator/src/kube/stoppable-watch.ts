// The informers' watch requests, ended together when the informers stop. ListWatch opens a new watch
// by itself whenever one ends (at once, or after its reconnect pause) without looking at whether it
// was stopped meanwhile; here a stopped watch refuses to open one and ends those open or opening. A
// watch that cannot be requested at all ends through `done`, as a failed one does (ListWatch would
// leave its rejection unhandled and stop watching).
import { setTimeout as sleep } from "node:timers/promises";
import { Watch, type KubeConfig } from "@kubernetes/client-node";

type WatchArgs = Parameters<Watch["watch"]>;

/** Why a watch asked for after stop() was not opened; ListWatch hands it to its error callbacks. */
export class WatchStoppedError extends Error {
  override readonly name = "WatchStoppedError";
  constructor() {
    super("the informers were stopped: no watch is opened");
  }
}

export class StoppableWatch extends Watch {
  private readonly stopping = new AbortController();
  /** Watches open now (their connection's controller). */
  private readonly open = new Set<AbortController>();
  /** Watch requests sent and not yet answered. */
  private readonly opening = new Set<Promise<unknown>>();

  constructor(kc: KubeConfig) {
    super(kc);
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  override async watch(
    path: WatchArgs[0],
    queryParams: WatchArgs[1],
    callback: WatchArgs[2],
    done: WatchArgs[3],
  ): Promise<AbortController> {
    if (this.stopped) {
      done(new WatchStoppedError());
      return new AbortController();
    }
    let connection: AbortController | undefined;
    let finished = false; // a request that failed ends before it returns its controller
    const ended = (err: unknown): void => {
      finished = true;
      if (connection) this.open.delete(connection);
      done(err);
    };
    const opening = super.watch(path, queryParams, callback, ended);
    this.opening.add(opening);
    try {
      connection = await opening;
    } catch (err) {
      // The request could not be made (its credentials could not be applied: an exec plugin that
      // failed, say). ListWatch's own reconnect does not handle a rejection: the cache would stop
      // watching for good, and the rejection go unhandled. It ends as any failed watch does.
      done(err);
      return new AbortController();
    } finally {
      this.opening.delete(opening);
    }
    if (this.stopped) connection.abort();
    else if (!finished) this.open.add(connection);
    return connection;
  }

  /**
   * ListWatch's pause before it watches again: ends at once when the watch is stopped (the watch it
   * then asks for is refused), so no timer outlives the informers.
   */
  readonly pause = (ms: number): Promise<void> =>
    sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);

  /** Ends every open watch, refuses new ones, and resolves once no watch request is under way. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const c of this.open) c.abort();
    this.open.clear();
    await Promise.allSettled([...this.opening]);
  }
}
