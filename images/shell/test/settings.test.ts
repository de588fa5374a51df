// Process settings from flags and env: precedence, defaults, and errors naming the flag/env var.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_HTTP_PORT, SettingsError, readSettings, type Env, type Role } from "../src/index.js";

const base: Env = { SFPROMPT_RUN_CONFIG: "/etc/sfprompt/config/run-config.json", HOME: "/home/u" };

describe("readSettings", () => {
  const ok: { name: string; role: Role; argv?: string[]; env?: Env; want: Record<string, unknown> }[] = [
    {
      name: "the operator's env alone gives the config path, NATS URL and defaults",
      role: "server",
      env: { NATS_URL: "nats://nats:4222", SFPROMPT_EXECUTION_PROVIDER: "cuda" },
      want: {
        configPath: "/etc/sfprompt/config/run-config.json",
        natsUrl: "nats://nats:4222",
        httpPort: DEFAULT_HTTP_PORT,
        httpHost: "0.0.0.0",
        graceMs: 20_000,
        logLevel: "info",
        executionProvider: "cuda",
        cacheDir: "/home/u/.cache/sfprompt",
      },
    },
    {
      name: "a flag wins over its env var",
      role: "client",
      argv: ["--config", "/tmp/c.yaml", "--client-index", "3", "--http-port", "0"],
      env: { SFPROMPT_CLIENT_INDEX: "1", SFPROMPT_HTTP_PORT: "9000" },
      want: { configPath: "/tmp/c.yaml", clientIndex: 3, httpPort: 0 },
    },
    {
      name: "SFPROMPT_CONFIG is read before SFPROMPT_RUN_CONFIG",
      role: "server",
      env: { SFPROMPT_CONFIG: "/a.json" },
      want: { configPath: "/a.json" },
    },
    {
      name: "the identity env vars become expectations and the restart attempt is kept",
      role: "client",
      env: {
        SFPROMPT_CLIENT_INDEX: "0",
        SFPROMPT_JOB: "demo",
        SFPROMPT_CLIENT_COUNT: "8",
        SFPROMPT_RESTART_ATTEMPT: "2",
        NODE_NAME: "n1",
      },
      want: {
        expect: { job: "demo", namespace: undefined, subjectPrefix: undefined, clientCount: 8 },
        restartAttempt: 2,
        nodeName: "n1",
      },
    },
    {
      name: "a server ignores a client index and an execution provider is not read for a client",
      role: "client",
      env: { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_EXECUTION_PROVIDER: "gpu" },
      want: { clientIndex: 0, executionProvider: undefined },
    },
  ];
  for (const c of ok) {
    test(c.name, () => {
      const s = readSettings(c.role, c.argv ?? [], { ...base, ...c.env });
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(s[k as keyof typeof s], v, k);
    });
  }

  const bad: { name: string; role: Role; argv?: string[]; env?: Env; setting: string }[] = [
    {
      name: "no config names --config",
      role: "server",
      env: { SFPROMPT_RUN_CONFIG: "" },
      setting: "--config / SFPROMPT_CONFIG",
    },
    {
      name: "a client without an index names it",
      role: "client",
      setting: "--client-index / SFPROMPT_CLIENT_INDEX",
    },
    {
      name: "a fractional index is refused",
      role: "client",
      env: { SFPROMPT_CLIENT_INDEX: "1.5" },
      setting: "--client-index / SFPROMPT_CLIENT_INDEX",
    },
    {
      name: "a port above 65535 is refused",
      role: "server",
      argv: ["--http-port", "70000"],
      setting: "--http-port / SFPROMPT_HTTP_PORT",
    },
    {
      name: "a grace of 0 is refused",
      role: "server",
      env: { SFPROMPT_GRACE_SECONDS: "0" },
      setting: "--grace-seconds / SFPROMPT_GRACE_SECONDS",
    },
    {
      name: "an unknown log level is refused",
      role: "server",
      env: { SFPROMPT_LOG_LEVEL: "trace" },
      setting: "--log-level / SFPROMPT_LOG_LEVEL",
    },
    {
      name: "an unknown execution provider is refused",
      role: "server",
      env: { SFPROMPT_EXECUTION_PROVIDER: "gpu" },
      setting: "--execution-provider / SFPROMPT_EXECUTION_PROVIDER",
    },
    { name: "an unknown flag is refused", role: "server", argv: ["--verbose"], setting: "command line" },
    { name: "a positional argument is refused", role: "server", argv: ["job.yaml"], setting: "command line" },
  ];
  for (const c of bad) {
    test(c.name, () => {
      assert.throws(
        () => readSettings(c.role, c.argv ?? [], { ...base, ...c.env }),
        (e: unknown) =>
          e instanceof SettingsError && e.setting === c.setting && e.message.startsWith(`${c.setting}: `),
      );
    });
  }
});
