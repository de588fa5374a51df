// The webhook's flags: split from the operator's own, parsed with env fallbacks, refused with the flag named.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWebhookConfig, splitWebhookArgs } from "../../src/webhook/webhook-config.js";
import { parseConfig } from "../../src/config.js";

describe("webhook flags", () => {
  it("splits --webhook* flags (both forms) from the operator's flags, which its parser accepts", () => {
    const argv = ["--workers", "3", "--webhook=true", "--webhook-port", "8443", "--log-level=debug"];
    const { webhook, rest } = splitWebhookArgs(argv);
    assert.deepEqual(webhook, ["--webhook=true", "--webhook-port", "8443"]);
    assert.deepEqual(rest, ["--workers", "3", "--log-level=debug"]);
    assert.equal(parseConfig(rest, {}).workers, 3);
    assert.equal(parseWebhookConfig(webhook, {}).port, 8443);
  });
  it("defaults: off, port 9443, generated certificate in <service>-cert for <service>.<namespace>.svc", () => {
    const c = parseWebhookConfig([], { POD_NAMESPACE: "ops" });
    assert.equal(c.enabled, false);
    assert.equal(c.port, 9443);
    assert.deepEqual(c.certs, {
      mode: "generate",
      secretNamespace: "ops",
      secretName: "sfprompt-operator-webhook-cert",
    });
    assert.ok(c.hosts.includes("sfprompt-operator-webhook.ops.svc"));
    assert.deepEqual(c.caBundle, { validating: [], mutating: [] });
  });
  it("reads the chart's environment", () => {
    const c = parseWebhookConfig([], {
      SFPROMPT_WEBHOOK_ENABLED: "true",
      SFPROMPT_WEBHOOK_CERT_MODE: "dir",
      SFPROMPT_WEBHOOK_CERT_DIR: "/certs",
      SFPROMPT_WEBHOOK_VALIDATING_CONFIGURATIONS: "a, b",
      SFPROMPT_WEBHOOK_MUTATING_CONFIGURATIONS: "c",
      SFPROMPT_WEBHOOK_EXTRA_HOSTS: "127.0.0.1",
    });
    assert.deepEqual([c.enabled, c.certs], [true, { mode: "dir", dir: "/certs" }]);
    assert.deepEqual(c.caBundle, { validating: ["a", "b"], mutating: ["c"] });
    assert.equal(c.hosts.at(-1), "127.0.0.1");
  });
  const bad: { name: string; argv: string[]; error: RegExp }[] = [
    {
      name: "a cert mode that does not exist",
      argv: ["--webhook-cert-mode=acme"],
      error: /--webhook-cert-mode: must be generate or dir/,
    },
    {
      name: "a port that is no number",
      argv: ["--webhook-port=https"],
      error: /--webhook-port: must be an integer/,
    },
    { name: "--webhook=yes", argv: ["--webhook=yes"], error: /--webhook: must be true or false/ },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}`, () => assert.throws(() => parseWebhookConfig(b.argv, {}), b.error));
  }
});
