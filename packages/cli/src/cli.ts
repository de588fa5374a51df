// Dispatches `sfprompt <command> [flags]` over the command registry. Exit codes: 0 ok, 1 the work
// failed (message on stderr, no stack trace for expected errors), 2 usage error.
import type { CliIO, Command } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { UsageError } from "./errors.js";
import { flagsHelp, parseFlags, positionalsHelp } from "./flags.js";
import { nearestName } from "./nearest-name.js";
import { cliVersion } from "./version.js";

const defaultIO: CliIO = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Error classes a user can cause (bad model, bad --wrt, unsupported op): reported without a stack. */
const USER_ERRORS = new Set([
  "OnnxIoError",
  "TensorFormatError",
  "GraphError",
  "ShapeInferenceError",
  "UnsupportedGradientError",
  "GradientBuildError",
  "WrtError",
  "BlockDetectionError",
  "SplitOptionsError",
  "CutTensorError",
  "TailRewriteError",
  "ManifestError",
  "JobValidationError",
  "DemoRecipeError",
  "DemoCacheError",
  "CacheDirError",
  "DatasetNotFoundError",
  "DatasetFormatError",
  "DatasetUnreadableError",
  "LabelError",
  "JobPartitionError",
  "RunConfigError",
  "BundleError",
  "MinilmDownloadError",
  "MinilmChecksumError",
  "MinilmCacheError",
  "MinilmConfigError",
  "SafetensorsFormatError",
  "SafetensorsTensorError",
  "VocabNotFoundError",
  "VocabFormatError",
  "VocabMissingTokenError",
  "NatsServerNotFoundError",
  "NatsServerStartError",
  "NatsUrlError",
  "RunDirError",
  "OutDirError",
  "JobFileError",
  "JobRunError",
  "JobInputError",
  "CheckpointError",
  "BucketOwnerError",
  "TrafficPlanError",
]);

function mainHelp(commands: readonly Command[]): string {
  const lines = commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`);
  return [
    "usage: sfprompt <command> [flags]",
    "",
    "commands:",
    ...lines,
    "",
    "run `sfprompt <command> --help` for its flags; `sfprompt --version` prints the version",
  ].join("\n");
}

function commandHelp(c: Command): string {
  const positionals = c.positionals ?? [];
  return [
    `usage: sfprompt ${c.usage}`,
    "",
    c.summary,
    ...(positionals.length === 0 ? [] : ["", "arguments:", positionalsHelp(positionals)]),
    "",
    "flags:",
    flagsHelp(c.flags),
    ...(c.notes === undefined ? [] : ["", ...c.notes]),
  ].join("\n");
}

/** Runs the CLI on argv (without node and script); resolves to the process exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIO = defaultIO,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const [first, ...rest] = argv;
  // `sfprompt help run`, as git and kubectl take it; `help rnu` is an unknown command as `rnu` is
  const name = first === "help" && rest[0] !== undefined ? rest[0] : first;
  const asked = first === "help" ? commands.find((c) => c.name === name) : undefined;
  if (asked !== undefined) {
    io.out(commandHelp(asked));
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.err : io.out)(mainHelp(commands));
    return name === undefined ? 2 : 0;
  }
  // `--version` as most tools take it, `version` as kubectl and helm do
  if (name === "--version" || name === "-V" || name === "version") {
    io.out(`sfprompt ${cliVersion()}`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    // help and version are words the CLI takes too, though not in the command table; after `help`
    // only a command is meant: `help hlep` is no slip for "help", `help rnu` is for "help run"
    const helping = first === "help";
    const names = commands.map((c) => c.name);
    const near = nearestName(name, helping ? names : [...names, "help", "version"]);
    const hint = near === undefined ? "" : ` (did you mean ${helping ? "help " : ""}${near}?)`;
    io.err(`sfprompt: unknown command "${name}"${hint}\n\n${mainHelp(commands)}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(parseFlags(rest, command.flags, command.name, command.positionals), io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`sfprompt ${e.message}\nusage: sfprompt ${command.usage}`);
      return 2;
    }
    const err = e as Error;
    if (USER_ERRORS.has(err.name)) {
      io.err(`sfprompt ${command.name}: ${err.message}`);
      return 1;
    }
    io.err(`sfprompt ${command.name}: internal error: ${err.stack ?? String(err)}`);
    return 1;
  }
}
