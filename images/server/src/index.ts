// @sfprompt/server-image: the server process (coordinator + body service) of a job.
// Public API: main(argv, env, io?) → Promise<ExitCode>; serverRole (RoleDefinition); SERVER_METHODS.
export { main } from "./main.js";
export { serverRole, SERVER_METHODS } from "./server-role.js";
