// The digest of the run config each role's pods carry (`sfprompt.io/config-hash`), taken over what
// that role's process reads: an edit that no process reads (a node selector, the TTL, the server's
// replica count) rolls nothing, one that the server reads (training.rounds) rolls the server (ADR 0040).
import { toRunConfig, type RunConfig, type SFPromptJob } from "@sfprompt/api";
import { digest } from "../names.js";

export interface ConfigHashes {
  /** Of the run config the server reads: all of it but server.replicas (the Deployment's count). */
  server: string;
  /** Of the run config without `server` (replicas, execution provider, CPU fallback): clients read none of it. */
  client: string;
}

const hashOf = (view: unknown): string => digest(JSON.stringify(view));

/** The run config as the server uses it. */
function serverView(config: RunConfig): unknown {
  const { replicas: _replicas, ...server } = config.server;
  return { ...config, server };
}

/** The run config as the clients use it. */
function clientView(config: RunConfig): unknown {
  const { server: _server, ...client } = config;
  return client;
}

export function configHashes(job: SFPromptJob): ConfigHashes {
  const config = toRunConfig(job);
  return { server: hashOf(serverView(config)), client: hashOf(clientView(config)) };
}
