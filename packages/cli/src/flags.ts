// A small flag parser: `--name value`, `--name=value`, boolean `--name`; every error names the flag.
import { UsageError } from "./errors.js";
import { nearestName } from "./nearest-name.js";

export interface FlagSpec {
  readonly name: string;
  readonly description: string;
  /** A flag that takes a value (default) or a boolean switch. */
  readonly boolean?: boolean;
  readonly required?: boolean;
  /** Allowed values, when the flag is an enumeration. */
  readonly choices?: readonly string[];
  readonly placeholder?: string;
}

export type ParsedFlags = Record<string, string | boolean | undefined>;

/** A positional argument (e.g. the JOB.yaml of `run JOB.yaml`); parsed into ParsedFlags[name]. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
}

/** " (did you mean --rounds?)" for the flag nearest a mistyped `name`, or "" when none is near. */
function suggestion(name: string, specs: readonly FlagSpec[]): string {
  const near = nearestName(
    name,
    specs.map((s) => s.name),
  );
  return near === undefined ? "" : ` (did you mean --${near}?)`;
}

/** Parses argv against the specs; throws UsageError naming the offending flag. */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  command: string,
  positionals: readonly PositionalSpec[] = [],
): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: ParsedFlags = {};
  let position = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      // -rounds: a flag typed with one dash would otherwise be taken for the JOB argument
      if (/^-[a-z]/i.test(arg))
        throw new UsageError(
          `${command}: unknown flag ${arg}; flags start with --${suggestion(arg.slice(1), specs)}`,
        );
      const p = positionals[position++];
      if (p === undefined)
        throw new UsageError(`${command}: unexpected argument "${arg}" (flags start with --)`);
      out[p.name] = arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (spec === undefined)
      throw new UsageError(
        `${command}: unknown flag --${name}${suggestion(name, specs)}; see \`sfprompt ${command} --help\``,
      );
    if (spec.boolean) {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      out[name] = true;
      continue;
    }
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (eq < 0) i++;
    if (value === undefined || (eq < 0 && value.startsWith("--")))
      throw new UsageError(`${command}: --${name} needs a value (${spec.placeholder ?? "VALUE"})`);
    value = value.trim();
    if (value === "") throw new UsageError(`${command}: --${name} is empty`);
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(
        `${command}: --${name} must be one of ${spec.choices.join(", ")} (got "${value}")`,
      );
    }
    if (out[name] !== undefined) throw new UsageError(`${command}: --${name} is given twice`);
    out[name] = value;
  }
  for (const s of specs)
    if (s.required && out[s.name] === undefined) throw new UsageError(`${command}: --${s.name} is required`);
  for (const p of positionals)
    if (p.required && out[p.name] === undefined)
      throw new UsageError(`${command}: the ${p.name.toUpperCase()} argument is required`);
  return out;
}

/** The help text of a command's flags. */
export function flagsHelp(specs: readonly FlagSpec[]): string {
  return specs
    .map((s) => {
      const head = s.boolean ? `--${s.name}` : `--${s.name} ${s.placeholder ?? "VALUE"}`;
      return `  ${head.padEnd(28)} ${s.description}${s.required ? " (required)" : ""}`;
    })
    .join("\n");
}

/** The help text of a command's positional arguments. */
export function positionalsHelp(specs: readonly PositionalSpec[]): string {
  return specs
    .map((p) => `  ${p.name.toUpperCase().padEnd(28)} ${p.description}${p.required ? " (required)" : ""}`)
    .join("\n");
}
