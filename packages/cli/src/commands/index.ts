// The command registry: add a command by writing src/commands/<name>.ts and listing it here.
import type { Command } from "../command.js";
import { demoModelCommand } from "./demo-model.js";
import { gradCommand } from "./grad.js";
import { prepareCommand } from "./prepare.js";
import { runCommand } from "./run.js";
import { trafficCommand } from "./traffic.js";
import { validateCommand } from "./validate.js";

export const COMMANDS: readonly Command[] = [
  gradCommand,
  prepareCommand,
  runCommand,
  validateCommand,
  trafficCommand,
  demoModelCommand,
];
