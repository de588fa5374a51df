// packages/cli: public surface of this package (the dispatcher and the command registry, for tests and
// for other entry points that embed the CLI).
export { runCli } from "./cli.js";
export { COMMANDS } from "./commands/index.js";
export type { CliIO, Command } from "./command.js";
export { parseFlags, flagsHelp, type FlagSpec, type ParsedFlags } from "./flags.js";
export { UsageError } from "./errors.js";
export {
  planJobTraffic,
  trafficJob,
  trafficModel,
  type JobTrafficPlan,
  type TrafficOverrides,
} from "./traffic/traffic-job.js";
export { splitOptionsOf } from "./run/bundle.js";
export { formatBytes } from "@sfprompt/protocol/charts";
export { trafficReport, trafficHeader, trafficTable, breakEvenLine } from "./traffic/traffic-table.js";
