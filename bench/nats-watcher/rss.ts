// Resident memory of the process that stops `sfprompt run`'s nats-server when the CLI dies: the
// /bin/sh watcher startLocalNats runs now beside the Node watcher it replaced (commit 12ebc8f's
// `node -e` script, copied below), each measured on a live nats-server of its own on this machine.
// Usage: npm run bench:nats-watcher > bench/results/nats-watcher-rss.md  (Linux: reads /proc)
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, realpathSync } from "node:fs";
import { cpus } from "node:os";
import { findNatsServer, startLocalNats } from "@sfprompt/protocol";
import { WATCHER_NAME } from "@sfprompt/protocol/testing";

/** The watcher of 12ebc8f (local-nats-watcher.ts), as it ran: `node -e`, nats-server as its child. */
const NODE_WATCHER = `
const { spawn } = require("node:child_process");
const [bin, ...args] = process.argv.slice(1);
const server = spawn(bin, args, { stdio: ["ignore", "ignore", "inherit"] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.kill("SIGTERM");
  setTimeout(() => server.kill("SIGKILL"), 5000).unref();
};
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(s, stop);
process.on("disconnect", stop);
server.on("spawn", () => process.send({ pid: server.pid }, () => undefined));
server.on("exit", (code) => process.exit(code ?? 1));
`;

/** VmRSS of a process in KiB. */
function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1]);
}

/** The pid of the sh watcher of the nats-server `server`: its command line ends `$0 $1`. */
function shWatcherOf(server: number): number {
  const tail = `\0${WATCHER_NAME}\0${server}\0`;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").endsWith(tail)) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no ${WATCHER_NAME} runs for nats-server ${server}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function nodeWatcher(): Promise<{ watcher: number; server: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ["-e", NODE_WATCHER, findNatsServer(), "-a", "127.0.0.1", "-p", "-1"],
    {
      detached: true,
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    },
  );
  const server = await new Promise<number>((resolve) =>
    child.once("message", (m) => resolve((m as { pid: number }).pid)),
  );
  return { watcher: child.pid!, server, child };
}

async function main(): Promise<void> {
  const sh = await startLocalNats({ ownProcessGroup: true });
  const node = await nodeWatcher();
  try {
    await sleep(1000); // both settled
    const shWatcher = shWatcherOf(sh.pid);
    const rows = [
      ["node -e watcher (before)", rssKiB(node.watcher), rssKiB(node.server)],
      ["/bin/sh watcher (now)", rssKiB(shWatcher), rssKiB(sh.pid)],
    ] as const;
    const mib = (k: number): string => (k / 1024).toFixed(1);
    const out = [
      `# RSS of the nats-server watcher of \`sfprompt run\``,
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${cpus()[0]?.model ?? "?"}, node ${process.version}, /bin/sh → ${realpathSync("/bin/sh")}), VmRSS after 1 s, each beside an idle nats-server of its own.`,
      "",
      "| watcher | watcher RSS (MiB) | its nats-server RSS (MiB) |",
      "| --- | ---: | ---: |",
      ...rows.map(([name, w, s]) => `| ${name} | ${mib(w)} | ${mib(s)} |`),
      "",
      `The sh watcher uses ${(rows[0][1] / rows[1][1]).toFixed(0)}× less memory than the Node one.`,
    ];
    console.log(out.join("\n"));
  } finally {
    node.child.kill("SIGTERM");
    await sh.stop();
  }
}

await main();
