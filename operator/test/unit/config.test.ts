import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";

test("defaults fit a Helm install: all namespaces, leader election on, edge label set", () => {
  const c = parseConfig([], {});
  assert.deepEqual(c.namespaces, []);
  assert.equal(c.leaderElection.enabled, true);
  assert.equal(c.leaderElection.name, "sfprompt-operator");
  assert.equal(c.children.edgeNodeLabel, "node-role.kubernetes.io/edge");
  assert.equal(c.http.port, 8081);
});

test("flags win over environment variables", () => {
  const c = parseConfig(["--namespaces", "a, b", "--nats-url=nats://x:4222"], {
    SFPROMPT_WATCH_NAMESPACES: "ignored",
    SFPROMPT_NATS_URL: "nats://env:4222",
    SFPROMPT_SERVER_IMAGE: "reg/server:1",
    SFPROMPT_CLIENT_RESTART_BASE_SECONDS: "2",
  });
  assert.deepEqual(c.namespaces, ["a", "b"]);
  assert.equal(c.children.natsUrl, "nats://x:4222");
  assert.equal(c.children.serverImage, "reg/server:1");
  assert.equal(c.children.clientRestart.baseMs, 2000);
});

test("a GPU server image is off by default and set by flag or environment", () => {
  assert.equal(parseConfig([], {}).children.gpuServerImage, "");
  assert.equal(
    parseConfig([], { SFPROMPT_GPU_SERVER_IMAGE: "reg/server:1-cuda" }).children.gpuServerImage,
    "reg/server:1-cuda",
  );
  assert.equal(
    parseConfig(["--gpu-server-image=reg/server:2-cuda"], { SFPROMPT_GPU_SERVER_IMAGE: "reg/server:1-cuda" })
      .children.gpuServerImage,
    "reg/server:2-cuda",
  );
});

test("an empty edge node label turns the default pinning off", () => {
  assert.equal(parseConfig(["--edge-node-label="], {}).children.edgeNodeLabel, "");
});

test("the leader's pod label is off by default and names the Downward API's pod when a selector is set", () => {
  assert.equal(parseConfig([], { POD_NAME: "op-0", POD_NAMESPACE: "sfprompt-system" }).leaderPod, undefined);
  assert.deepEqual(
    parseConfig(
      ["--leader-pod-selector=app.kubernetes.io/instance=sfprompt,app.kubernetes.io/component=operator"],
      {
        POD_NAME: "op-0",
        POD_NAMESPACE: "sfprompt-system",
      },
    ).leaderPod,
    {
      name: "op-0",
      namespace: "sfprompt-system",
      selector: "app.kubernetes.io/instance=sfprompt,app.kubernetes.io/component=operator",
    },
  );
});

const bad: [string, string[], RegExp][] = [
  ["an unknown flag", ["--nope"], /flags: .*--namespaces/],
  ["a negative port", ["--metrics-port=-1"], /--metrics-port: must be a number ≥ 0/],
  [
    "a bad pull policy",
    ["--image-pull-policy", "Sometimes"],
    /--image-pull-policy: must be one of Always, IfNotPresent, Never/,
  ],
  [
    "a leader pod selector without POD_NAME",
    ["--leader-pod-selector=app=x"],
    /--leader-pod-selector: needs POD_NAME and POD_NAMESPACE/,
  ],
  [
    "a set-based leader pod selector",
    ["--leader-pod-selector=app in (x)"],
    /--leader-pod-selector: must be label=value pairs/,
  ],
];
for (const [name, argv, message] of bad) {
  test(`config: ${name} is refused with a message naming the flag`, () => {
    assert.throws(
      () => parseConfig(argv, {}),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
    );
  });
}
