// The shape of a CLI command: one file per command in src/commands/, registered in commands/index.ts.
import type { FlagSpec, ParsedFlags, PositionalSpec } from "./flags.js";

/** Where a command writes: injectable so tests can capture output. */
export interface CliIO {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface Command {
  readonly name: string;
  /** One line for `sfprompt --help`. */
  readonly summary: string;
  /** The usage line without the program name, e.g. "grad --model M.onnx --wrt a,b --out G.onnx". */
  readonly usage: string;
  readonly flags: readonly FlagSpec[];
  /** Positional arguments, in order (parsed into the flags record under their names). */
  readonly positionals?: readonly PositionalSpec[];
  /** Lines for the end of `--help`: exit codes, where the docs are. */
  readonly notes?: readonly string[];
  /** Runs with parsed flags; resolves to the exit code. Throws UsageError for bad flag values. */
  run(flags: ParsedFlags, io: CliIO): Promise<number>;
}
