// A real nats-server (JetStream on) and a connection to it, started before a test file's tests and
// stopped after them.
import { after, before } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type TestNats, type TestNatsOptions } from "@sfprompt/protocol/testing";

export interface NatsHooks {
  readonly server: TestNats;
  readonly nc: NatsConnection;
}

/** Registers the before/after hooks; the fields are set once `before` has run. */
export function useNats(options: TestNatsOptions = {}): NatsHooks {
  const w = {} as { server: TestNats; nc: NatsConnection };
  before(async () => {
    w.server = await startNatsServer(options);
    w.nc = await connect({ servers: w.server.url });
  });
  after(async () => {
    await w.nc.close();
    await w.server.stop();
  });
  return w;
}
