// A TCP relay between a process and a real nats-server that a test can cut, as a network that went
// away: its open connections are closed and new ones closed at once until restore(). It cuts by
// itself, once, at the first bytes from the process that contain `cutAt` (those never reach NATS), so a
// test can drop the connection while a given request waits for its reply.
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
 * Starts a relay on a free loopback port to `target` (a nats:// URL). `cutAtFromNats` cuts, once, at
 * the first bytes from NATS that contain it (those never reach the process): a reply that was sent
 * and is lost.
 */
export async function startTcpRelay(
  target: string,
  cutAt?: string,
  cutAtFromNats?: string,
): Promise<TcpRelay> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let down = false;
  let trap = cutAt;
  let replyTrap = cutAtFromNats;
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
    inbound.on("data", (b: Buffer) => {
      if (trap !== undefined && b.includes(trap)) {
        trap = undefined;
        cut();
      } else outbound.write(b);
    });
    outbound.on("data", (b: Buffer) => {
      if (replyTrap !== undefined && b.includes(replyTrap)) {
        replyTrap = undefined;
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
