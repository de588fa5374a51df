// The test relay's cut at a marker, whatever the TCP reads look like: a message is written to the
// relay in parts, each part only once the previous one came out on the far side (so the relay reads it
// alone), with the marker split at every position, read one byte at a time, or read whole. The relay
// must cut at the part that completes the marker, in both directions: the bytes before the marker
// reach the far side (those of that part too), the marker and everything after it never do. Against a
// real nats-server: a PUB whose subject holds the marker, split across reads, is cut and never
// delivered; in one read with a PUB before it and one after, the one before is delivered, the others not.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect as tcpConnect, createServer, type Server, type Socket } from "node:net";
import { connect } from "@nats-io/transport-node";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { startTcpRelay, type TcpRelay } from "./tcp-relay.js";

/** The bytes a socket received, and a wait for a count of them. */
class Sink {
  private bytes = Buffer.alloc(0);
  private waits: { n: number; resolve: () => void }[] = [];
  readonly closed: Promise<void>;

  constructor(socket: Socket) {
    socket.on("data", (b: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, b]);
      this.waits = this.waits.filter((w) => (this.bytes.length >= w.n ? (w.resolve(), false) : true));
    });
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  get received(): Buffer {
    return this.bytes;
  }

  /** Resolves once `n` bytes are in. */
  until(n: number): Promise<void> {
    if (this.bytes.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waits.push({ n, resolve }));
  }
}

/** Resolves once `check` holds (polled: what it reads has no event of its own). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A plain TCP endpoint as the relay's target: the relay relays bytes and knows no protocol. */
async function farEnd(): Promise<{ url: string; accepted: Promise<Socket>; server: Server }> {
  let accept!: (s: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (accept = resolve));
  const server = createServer(accept);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the far end has no TCP port");
  return { url: `nats://127.0.0.1:${address.port}`, accepted, server };
}

type Direction = "to NATS" | "from NATS";

interface Outcome {
  /** The index of the part at which the relay cut, or undefined when every part went through. */
  cutAtPart: number | undefined;
  /** What the receiving side got. */
  received: string;
}

/**
 * Sends `parts` through a relay trapping `marker` in `direction`, each part once the one before came
 * out on the other side (or the relay cut).
 */
async function sendInParts(direction: Direction, marker: string, parts: Buffer[]): Promise<Outcome> {
  const far = await farEnd();
  let relay: TcpRelay | undefined;
  let near: Socket | undefined;
  try {
    relay =
      direction === "to NATS"
        ? await startTcpRelay(far.url, marker)
        : await startTcpRelay(far.url, undefined, marker);
    const { port } = new URL(relay.url);
    near = tcpConnect(Number(port), "127.0.0.1");
    const nearSink = new Sink(near);
    const farSocket = await far.accepted;
    const farSink = new Sink(farSocket);
    const [writer, sink] = direction === "to NATS" ? [near, farSink] : [farSocket, nearSink];
    let cut = false;
    void relay.wasCut.then(() => (cut = true));
    let sent = 0;
    for (const [i, part] of parts.entries()) {
      writer.write(part);
      sent += part.length;
      await Promise.race([relay.wasCut, sink.until(sent)]);
      if (cut) {
        await sink.closed;
        return { cutAtPart: i, received: sink.received.toString() };
      }
    }
    return { cutAtPart: undefined, received: sink.received.toString() };
  } finally {
    near?.destroy();
    await relay?.close();
    far.server.close();
  }
}

/** `message` split at `at`s. */
function split(message: Buffer, at: readonly number[]): Buffer[] {
  const bounds = [0, ...at, message.length];
  return bounds.slice(1).map((end, i) => message.subarray(bounds[i], end));
}

const CASES: readonly { direction: Direction; marker: string; message: string }[] = [
  // a request whose subject holds the marker, as job-failed-mid-round and job-ended-mid-round cut at
  {
    direction: "to NATS",
    marker: "local-update",
    message: "PING\r\nPUB sfp.job.local-update _INBOX.x.1 5\r\nhello\r\nPING\r\n",
  },
  // a reply whose payload holds the marker, as upload-reply-lost cuts at
  {
    direction: "from NATS",
    marker: '"accepted":true',
    message: 'PONG\r\nMSG _INBOX.x.1 1 26\r\n{"meta":{"accepted":true}}\r\nPONG\r\n',
  },
];

for (const { direction, marker, message } of CASES) {
  const bytes = Buffer.from(message);
  const start = bytes.indexOf(marker);
  const end = start + marker.length;
  /**
   * The cut comes at the part that ends at or past the marker's end; what went through: the parts
   * before it, and of that part the bytes before the marker's start.
   */
  const expected = (parts: Buffer[]): Outcome => {
    let length = 0;
    for (const [i, part] of parts.entries()) {
      if (length + part.length >= end)
        return { cutAtPart: i, received: bytes.subarray(0, Math.max(length, start)).toString() };
      length += part.length;
    }
    throw new Error("the message does not hold the marker");
  };

  test(`${direction}: the relay cuts at the read that completes the marker, wherever the marker is split`, async () => {
    for (let at = 1; at < bytes.length; at++) {
      const parts = split(bytes, [at]);
      assert.deepEqual(await sendInParts(direction, marker, parts), expected(parts), `split at byte ${at}`);
    }
  });

  test(`${direction}: the relay passes the bytes before the marker of a read that holds all the messages, and nothing after`, async () => {
    const outcome = await sendInParts(direction, marker, [bytes]);
    assert.deepEqual(outcome, { cutAtPart: 0, received: bytes.subarray(0, start).toString() });
  });

  test(`${direction}: the relay cuts at the marker's last byte when every read is one byte`, async () => {
    const parts = split(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    );
    const outcome = await sendInParts(direction, marker, parts);
    assert.deepEqual(outcome, { cutAtPart: end - 1, received: bytes.subarray(0, end - 1).toString() });
  });
}

let nats: TestNats;
before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await nats?.stop();
});

test("a PUB whose marker is split across reads is cut, and nats-server never delivers it", async () => {
  const relay = await startTcpRelay(nats.url, "local-update");
  const subscriber = await connect({ servers: nats.url });
  const publisher = await connect({ servers: nats.url });
  const raw = tcpConnect(Number(new URL(relay.url).port), "127.0.0.1");
  try {
    const seen: string[] = [];
    const arrived = new Map<string, () => void>();
    const arrival = (text: string): Promise<void> => new Promise((resolve) => arrived.set(text, resolve));
    const sub = subscriber.subscribe("sfp.job.>", {
      callback: (_, m) => (seen.push(m.string()), arrived.get(m.string())?.()),
    });
    await subscriber.flush();
    const sink = new Sink(raw);
    // the first part reaches nats-server: its PONG comes back through the relay
    raw.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\nPUB sfp.job.local-up');
    await until(() => sink.received.includes("PONG\r\n"));
    raw.write("date 5\r\nhello\r\n");
    const first = await Promise.race([
      relay.wasCut.then(() => "cut"),
      arrival("hello").then(() => "delivered"),
    ]);
    assert.equal(first, "cut");
    await sink.closed;
    // what the cut left at nats-server is half a PUB: a later message on the subject comes alone
    const later = arrival("after the cut");
    publisher.publish("sfp.job.local-update", "after the cut");
    await later;
    await subscriber.flush();
    assert.deepEqual(seen, ["after the cut"]);
    sub.unsubscribe();
  } finally {
    raw.destroy();
    await subscriber.close();
    await publisher.close();
    await relay.close();
  }
});

test("in one read, a PUB before the one with the marker is delivered; that one and a PUB after it are not", async () => {
  const relay = await startTcpRelay(nats.url, "local-update");
  const subscriber = await connect({ servers: nats.url });
  const raw = tcpConnect(Number(new URL(relay.url).port), "127.0.0.1");
  try {
    const seen: string[] = [];
    let delivered!: () => void;
    const first = new Promise<void>((resolve) => (delivered = resolve));
    const sub = subscriber.subscribe("sfp.job.>", {
      callback: (_, m) => (seen.push(`${m.subject} ${m.string()}`), delivered()),
    });
    await subscriber.flush();
    const sink = new Sink(raw);
    raw.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
    await until(() => sink.received.includes("PONG\r\n"));
    // one write, read by the relay at once: the cut falls inside it, at the marker
    raw.write(
      "PUB sfp.job.before 5\r\nfirst\r\nPUB sfp.job.local-update 5\r\nhello\r\nPUB sfp.job.after 5\r\nlater\r\n",
    );
    await relay.wasCut;
    await sink.closed;
    // what got through is delivered within a few seconds, or never
    await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 5000))]);
    // anything the cut let through would have come before this round trip ends
    await subscriber.flush();
    assert.deepEqual(seen, ["sfp.job.before first"]);
    sub.unsubscribe();
  } finally {
    raw.destroy();
    await subscriber.close();
    await relay.close();
  }
});
