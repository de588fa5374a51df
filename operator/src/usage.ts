// `sfprompt-operator --help`: the usage text, made from the flag tables the parsers read (config.ts,
// webhook/webhook-config.ts), so a flag, its variable and its default are written down once.

/** One flag of a table: where else its value comes from, what it is when unset, and one line for --help. */
export interface FlagSpec {
  /** Environment variable read when the flag is not given. */
  readonly env: string;
  /** Second variable, read when neither the flag nor `env` has a value (before the default). */
  readonly thenEnv?: string;
  /** The value when neither is set, written as the flag's value and parsed like one. */
  readonly default: string;
  /** What `--help` shows where the default is not a plain value (`default` is then empty). */
  readonly defaultText?: string;
  readonly help: string;
}

export interface FlagSection {
  title: string;
  flags: Readonly<Record<string, FlagSpec>>;
}

/** The default as --help shows it. */
export function shownDefault(spec: FlagSpec): string {
  const value = spec.defaultText ?? spec.default;
  return spec.thenEnv ? `$${spec.thenEnv}, else ${value}` : value;
}

/** Whether argv asks for the usage; it wins over every other flag, valid or not. */
export function helpRequested(argv: readonly string[]): boolean {
  return argv.some((a) => a === "--help" || a === "-h");
}

/** The usage: each flag with its line of help, its variable and its default. */
export function usage(program: string, summary: string, sections: readonly FlagSection[]): string {
  const lines = [`Usage: ${program} [--flag=value | --flag value]...`, "", summary, ""];
  for (const { title, flags } of sections) {
    lines.push(`${title}:`);
    for (const [name, spec] of Object.entries(flags)) {
      lines.push(`  --${name}`, `      ${spec.help}`, `      env ${spec.env}; default ${shownDefault(spec)}`);
    }
    lines.push("");
  }
  lines.push("  -h, --help", "      Print this usage and exit.", "");
  return lines.join("\n");
}
