// A TCP relay between a process and a real nats-server that a test can cut, as a network that went
// away: its open connections are closed and new ones closed at once until restore(). It cuts by
// itself, once, at the bytes from the process that complete `cutAt`, so a test can drop the connection
// while a given request waits for its reply. TCP may split the marker across reads: the relay matches
// the byte stream, not each read, so where the split falls does not matter (streamMatcher). The read
// that completes the marker never reaches the peer; what went before it is at most a strict prefix of
// the message that holds the marker, which the peer therefore never takes in.
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";

export interface TcpRelay {
  /** nats://127.0.0.1:<relay port> */
  readonly url: string;
  /** Resolves once the relay cut (cut(), or bytes containing `cutAt`). */
  readonly wasCut: Promise<void>;
  /** Closes every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * A test for "has `marker` appeared yet" on a byte stream read in chunks of any size: it remembers the
 * last marker.length - 1 bytes it saw, so a marker split across reads is found in the read that
 * completes it.
 */
export function streamMatcher(marker: string): (chunk: Buffer) => boolean {
  const needle = Buffer.from(marker);
  let tail = Buffer.alloc(0);
  return (chunk) => {
    const seen = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    if (seen.includes(needle)) return true;
    tail = Buffer.from(seen.subarray(Math.max(0, seen.length - (needle.length - 1))));
    return false;
  };
}

/**
 * Starts a relay on a free loopback port to `target` (a nats:// URL). `cutAtFromNats` cuts, once, at
 * the bytes from NATS that complete it (that read never reaches the process): a reply that was sent
 * and is lost. Each connection matches its own stream; the first match on any connection cuts.
 */
export async function startTcpRelay(
  target: string,
  cutAt?: string,
  cutAtFromNats?: string,
): Promise<TcpRelay> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let down = false;
  // once: after the first cut the relay passes everything
  let trapped = cutAt === undefined;
  let replyTrapped = cutAtFromNats === undefined;
  let wasCut!: () => void;
  const cutOnce = new Promise<void>((resolve) => (wasCut = resolve));
  const cut = (): void => {
    down = true;
    for (const s of open) s.destroy();
    wasCut();
  };
  const server: Server = createServer((inbound) => {
    if (down) return void inbound.destroy();
    const outbound = tcpConnect(Number(port), hostname);
    for (const [s, peer] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      open.add(s);
      // either side ending ends both, as a dropped network, never the test's error
      s.once("close", () => (open.delete(s), peer.destroy()));
      s.on("error", () => undefined);
    }
    const trap = cutAt === undefined ? undefined : streamMatcher(cutAt);
    const replyTrap = cutAtFromNats === undefined ? undefined : streamMatcher(cutAtFromNats);
    inbound.on("data", (b: Buffer) => {
      if (!trapped && trap?.(b) === true) {
        trapped = true;
        cut();
      } else outbound.write(b);
    });
    outbound.on("data", (b: Buffer) => {
      if (!replyTrapped && replyTrap?.(b) === true) {
        replyTrapped = true;
        cut();
      } else inbound.write(b);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the relay has no TCP port");
  return {
    url: `nats://127.0.0.1:${address.port}`,
    wasCut: cutOnce,
    cut,
    restore: () => void (down = false),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
