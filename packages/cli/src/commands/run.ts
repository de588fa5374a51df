// `sfprompt run JOB.yaml`: runs an SFPromptJob on this machine (nats-server, server and client
// processes), with progress on stderr and the results in a run directory (docs/quickstart.md).
import { METHODS } from "@sfprompt/api";
import type { Command } from "../command.js";
import { parseMethodsFlag } from "../run/compare-methods.js";
import { modeOf, roundsFlag } from "../run/run-flags.js";
import { localRun } from "../run/local-run.js";
import { StatusLine } from "../run/progress-view.js";
import { isOutputGone } from "../output-gone.js";
import { validateJob } from "./validate.js";

/**
 * The signals that stop a run as Ctrl-C does, with the exit code and what the user is told. SIGHUP
 * comes when the terminal closes or the ssh session drops; the shell sends it to the whole job, so
 * the server and clients get it too and stop the same way (src/proc/main.ts).
 */
const STOP_SIGNALS = {
  SIGINT: { code: 130, why: "SIGINT" },
  SIGTERM: { code: 130, why: "SIGTERM" },
  SIGHUP: { code: 129, why: "SIGHUP (the terminal closed)" },
} as const satisfies Partial<Record<NodeJS.Signals, { code: number; why: string }>>;
type StopSignal = keyof typeof STOP_SIGNALS;

export const runCommand: Command = {
  name: "run",
  summary:
    "run an SFPromptJob manifest locally (nats-server, server and client processes) and write a run directory",
  usage:
    "run JOB.yaml [--nats URL] [--out DIR] [--compare [--methods LIST]] [--resume|--fresh] [--rounds N] [--dry-run]",
  positionals: [
    {
      name: "job",
      description: "the SFPromptJob manifest, the YAML kubectl apply takes (e.g. examples/demo-job.yaml)",
      required: true,
    },
  ],
  flags: [
    {
      name: "nats",
      placeholder: "URL",
      description: "use this NATS server (with JetStream) instead of starting one",
    },
    {
      name: "out",
      placeholder: "DIR",
      description: "run directory (default: spec.output.path, else runs/<job name>)",
    },
    {
      name: "compare",
      boolean: true,
      description: "also run every baseline on the same job and print the comparison table",
    },
    {
      name: "methods",
      placeholder: "LIST",
      description: `with --compare (which it implies): only these methods besides the job's own, comma-separated, of ${METHODS.join(", ")}`,
    },
    {
      name: "resume",
      boolean: true,
      description:
        "resume from the run directory's checkpoint (the default when one exists); with spec.output.resumeFrom and none of the job's own, go on from that job's",
    },
    {
      name: "fresh",
      boolean: true,
      description: "start clean: remove what an earlier run wrote to the run directory",
    },
    {
      name: "rounds",
      placeholder: "N",
      description:
        "train N rounds instead of spec.training.rounds (more than a finished run trained: it trains on)",
    },
    {
      name: "dry-run",
      boolean: true,
      description: "check the job and print what the run would do, starting nothing (sfprompt validate)",
    },
  ],
  notes: [
    "Progress goes to stderr, the result to stdout, everything else to the run directory (docs/quickstart.md).",
    "Running it again resumes from the run directory's last checkpoint; a run that finished under the",
    "same spec prints its recorded result without starting any process.",
    "exit codes: 0 finished; 1 the job file, the run directory or the run failed (the message says which);",
    "2 a usage error; 129 the terminal closed (SIGHUP); 130 Ctrl-C or SIGTERM; 141 the output pipe closed;",
    "a stop that comes after the job finished training interrupts nothing: its results are written, exit 0.",
    "A stopped run says which checkpoint its store keeps, if any: the same command goes on from it.",
  ],
  async run(flags, io) {
    // kubectl's --dry-run: the same checks and plan as sfprompt validate, nothing started
    // (flag errors name run, the command typed)
    if (flags["dry-run"] === true) return validateJob(flags, io, "run");
    const rounds = roundsFlag(flags["rounds"]);
    const only = parseMethodsFlag(flags["methods"]);
    const mode = modeOf(flags["resume"] === true, flags["fresh"] === true);
    const abort = new AbortController();
    const status = new StatusLine(process.stderr);
    let stopCode: number | undefined;
    // the job's training ended (every method's): a stop from then on interrupts nothing, as the
    // results are being written; they are written in full and the exit code says so (0)
    let trained = false;
    let lateStop = false;
    const stopRun = (code: number, why: string): void => {
      if (stopCode !== undefined || lateStop) return;
      if (trained) {
        lateStop = true;
        status.line(
          `sfprompt run: ${why}: the job had finished training; writing its results, then exiting (0)`,
        );
        return;
      }
      stopCode = code;
      status.line(`sfprompt run: ${why}: stopping the processes and nats-server`);
      abort.abort();
    };
    // on: a second Ctrl-C while stopping must not kill this process before its children
    const onSignal = (signal: StopSignal): void =>
      stopRun(STOP_SIGNALS[signal].code, STOP_SIGNALS[signal].why);
    // output piped into a program that exits (`| head`), or a terminal that hung up before its
    // SIGHUP came: stop as Ctrl-C does instead of crashing
    const onOutputError = (error: NodeJS.ErrnoException): void => {
      if (!isOutputGone(error)) return;
      if (error.code === "EPIPE") stopRun(141, "the output pipe closed");
      else stopRun(STOP_SIGNALS.SIGHUP.code, "the terminal is gone");
    };
    const signals = Object.keys(STOP_SIGNALS) as StopSignal[];
    for (const s of signals) process.on(s, onSignal);
    process.stdout.on("error", onOutputError);
    process.stderr.on("error", onOutputError);
    try {
      await localRun({
        jobFile: String(flags["job"]),
        compare: flags["compare"] === true || only !== undefined,
        ...(only === undefined ? {} : { compareMethods: only }),
        mode,
        signal: abort.signal,
        print: io.out,
        status,
        ...(flags["nats"] === undefined ? {} : { natsUrl: String(flags["nats"]) }),
        ...(flags["out"] === undefined ? {} : { out: String(flags["out"]) }),
        ...(rounds === undefined ? {} : { rounds }),
        onTrained: () => (trained = true),
      });
      // the stop came as the job's last event arrived: nothing was left unfinished
      if (stopCode !== undefined)
        status.line(
          "sfprompt run: the job finished as it was being stopped; its results are written (exit 0)",
        );
      return 0;
    } catch (error) {
      if (stopCode !== undefined) return stopCode;
      throw error;
    } finally {
      for (const s of signals) process.removeListener(s, onSignal);
      process.stdout.removeListener("error", onOutputError);
      process.stderr.removeListener("error", onOutputError);
    }
  },
};
