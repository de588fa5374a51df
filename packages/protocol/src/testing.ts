// Test/dev harness: a real nats-server with JetStream in a temp dir, for tests of the data plane.
import { startLocalNats, type LocalNats, type LocalNatsOptions } from "./local-nats.js";

export {
  startLocalNats,
  NatsServerNotFoundError,
  NatsServerStartError,
  findNatsServer,
} from "./local-nats.js";
export type { LocalNats, LocalNatsOptions } from "./local-nats.js";
/** The $0 of an ownProcessGroup nats-server's watcher, as `ps` shows it: `WATCHER_NAME <server pid>`. */
export { WATCHER_NAME } from "./local-nats-watcher.js";

export interface TestNatsOptions {
  /** Largest message the server accepts (default 8 MiB). */
  readonly maxPayload?: number;
  /** Start the monitoring endpoint too (for byte counts as the server sees them). */
  readonly monitoring?: boolean;
  /** JetStream's file storage limit in bytes (default 16 GiB). */
  readonly maxFileStore?: number;
}

export interface TestNats {
  readonly url: string;
  readonly port: number;
  readonly monitorUrl: string | undefined;
  stop(): Promise<void>;
}

/** Starts a throw-away nats-server on a free loopback port; stop() kills it and removes its files. */
export async function startNatsServer(opts: TestNatsOptions = {}): Promise<TestNats> {
  const nats: LocalNats = await startLocalNats(opts satisfies LocalNatsOptions);
  return { url: nats.url, port: nats.port, monitorUrl: nats.monitorUrl, stop: () => nats.stop() };
}
