// A run holding its folder, for the lock tests: takes DIR as `sfprompt run` does (lockRunDir),
// prints "held", and holds it until killed. Usage: run-lock-holder-process.ts DIR
import { lockRunDir } from "../src/run/run-lock.js";

lockRunDir(process.argv[2]!);
process.stdout.write("held\n");
setInterval(() => undefined, 60_000);
