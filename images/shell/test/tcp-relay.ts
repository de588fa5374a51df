// A TCP relay between a process and a real nats-server that a test can cut, as a network that went
// away: its open connections are closed and new ones closed at once until restore(). It cuts by
// itself, once, at the bytes from the process that complete `cutAt`, so a test can drop the connection
// while a given request waits for its reply. TCP may split the marker across reads: the relay matches
// the byte stream, not each read, so where the split falls does not matter (streamMatcher). The cut
// falls where the marker starts: the bytes before it in the read that completes it still reach the
// peer (earlier messages of that read arrive whole, as over a network cut at that point), the marker
// and everything after it never do, so the peer holds at most a strict prefix of the message that
// holds the marker, which it therefore never takes in.
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
 * completes it. Returns the offset in `chunk` at which the marker starts (negative when it started in
 * an earlier read), or undefined while it has not appeared.
 */
export function streamMatcher(marker: string): (chunk: Buffer) => number | undefined {
  const needle = Buffer.from(marker);
  let tail = Buffer.alloc(0);
  return (chunk) => {
    const seen = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    const at = seen.indexOf(needle);
    if (at >= 0) return at - (seen.length - chunk.length);
    tail = Buffer.from(seen.subarray(Math.max(0, seen.length - (needle.length - 1))));
    return undefined;
  };
}

/**
 * Starts a relay on a free loopback port to `target` (a nats:// URL). `cutAtFromNats` cuts, once, at
 * the bytes from NATS that hold it (from where it starts, they never reach the process): a reply that
 * was sent and is lost. Each connection matches its own stream; the first match on any connection cuts.
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
  /** Cuts at a marker found at offset `at` of `chunk`: what came before it is written to `to` first. */
  const cutAtMarker = (to: Socket, chunk: Buffer, at: number): void => {
    // nothing more passes from now on, on any connection, as on a network that went away
    down = true;
    const head = chunk.subarray(0, Math.max(0, at));
    if (head.length === 0) return cut();
    to.write(head, () => cut());
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
      if (down) return;
      const at = trapped ? undefined : trap?.(b);
      if (at === undefined) return void outbound.write(b);
      trapped = true;
      cutAtMarker(outbound, b, at);
    });
    outbound.on("data", (b: Buffer) => {
      if (down) return;
      const at = replyTrapped ? undefined : replyTrap?.(b);
      if (at === undefined) return void inbound.write(b);
      replyTrapped = true;
      cutAtMarker(inbound, b, at);
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
