// A real nats-server (JetStream on) and a connection to it, started before a test file's tests and
// stopped after them.
import { after, before } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jobSubjects } from "@sfprompt/protocol";
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

/**
 * What a listener on job `job`'s job-end subject, on a connection of its own (as a client has),
 * receives while `fn` runs: the messages' texts, after both connections flushed.
 */
export async function jobEndsHeardDuring(
  nats: NatsHooks,
  job: string,
  fn: () => Promise<void>,
): Promise<string[]> {
  const client = await connect({ servers: nats.server.url });
  try {
    const ends: string[] = [];
    const sub = client.subscribe(jobSubjects(job).jobEnd, {
      callback: (_err, msg) => void ends.push(new TextDecoder().decode(msg.data)),
    });
    await client.flush();
    await fn();
    await nats.nc.flush();
    await client.flush();
    sub.unsubscribe();
    return ends;
  } finally {
    await client.close();
  }
}
