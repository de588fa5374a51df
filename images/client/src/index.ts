// @sfprompt/client-image: the edge client process of a job.
// Public API: main(argv, env, io?) → Promise<ExitCode>; clientRole (RoleDefinition); CLIENT_METHODS.
export { main } from "./main.js";
export { clientRole, CLIENT_METHODS } from "./client-role.js";
