// Drives one benchmark side living in its own child process over a line protocol, so sides can be
// timed in interleaved rounds (same background load) while each keeps its own RSS high-water mark.
// Child: warms up, prints {"ready":true}; on "step" runs one timed step and prints its timings as JSON;
// on "done" writes its input gradient, prints its summary JSON and exits.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";

export interface StepTiming {
  stepMs: number;
  /** CPU time of the side's process during the step (user + system, all its threads) */
  cpuMs?: number;
  forwardMs?: number;
  backwardMs?: number;
}

export class SideProcessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SideProcessError";
  }
}

export class Stepper<Summary> {
  private readonly lines: AsyncIterator<string>;
  private readonly rl: Interface;
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly label: string,
    private readonly proc: ChildProcessByStdio<Writable, Readable, null>,
  ) {
    this.rl = createInterface({ input: proc.stdout });
    this.lines = this.rl[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  }

  /** Starts the child and waits until it has loaded its model and warmed up. */
  static async start<S>(
    label: string,
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<Stepper<S>> {
    const proc = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "inherit"] });
    const s = new Stepper<S>(label, proc);
    const ready = await s.next<{ ready?: boolean }>("start");
    if (ready.ready !== true)
      throw new SideProcessError(`${label}: expected {"ready":true}, got ${JSON.stringify(ready)}`);
    return s;
  }

  async step(): Promise<StepTiming> {
    this.proc.stdin.write("step\n");
    return this.next<StepTiming>("step");
  }

  async finish(): Promise<Summary> {
    this.proc.stdin.end("done\n");
    const summary = await this.next<Summary>("done");
    const code = await this.exited;
    if (code !== 0) throw new SideProcessError(`${this.label}: exited with ${code} after its summary`);
    return summary;
  }

  /** Kills the child if it is still running (after a failure elsewhere). */
  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
  }

  private async next<T>(phase: string): Promise<T> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done === true) {
        throw new SideProcessError(
          `${this.label}: exited during ${phase} (code ${await this.exited}); see its stderr`,
        );
      }
      if (r.value.startsWith("{")) return JSON.parse(r.value) as T;
    }
  }
}
