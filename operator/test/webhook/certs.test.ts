// The pure-TS X.509 builder and the certificate fitness checks, judged by openssl and node's parser.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { certProblem, generateWebhookCerts, serviceHosts } from "../../src/webhook/certs/webhook-certs.js";
import * as der from "../../src/webhook/certs/der.js";

const dir = mkdtempSync(join(tmpdir(), "sfprompt-webhook-certs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const hosts = [...serviceHosts("sfprompt-operator-webhook", "sfprompt-system"), "127.0.0.1", "::1"];
const bundle = generateWebhookCerts({ hosts });

function openssl(args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("generated certificates", () => {
  it("openssl verifies the serving certificate against the CA for TLS server use", () => {
    writeFileSync(join(dir, "ca.crt"), bundle.caPem);
    writeFileSync(join(dir, "tls.crt"), bundle.certPem);
    assert.match(
      openssl(["verify", "-CAfile", join(dir, "ca.crt"), "-purpose", "sslserver", join(dir, "tls.crt")]),
      /OK/,
    );
  });
  it("the serving certificate names every host as a subjectAltName and is no CA", () => {
    const cert = new X509Certificate(bundle.certPem);
    assert.equal(cert.ca, false);
    const sans = cert.subjectAltName!.split(", ");
    for (const h of serviceHosts("sfprompt-operator-webhook", "sfprompt-system"))
      assert.ok(sans.includes(`DNS:${h}`), h);
    assert.ok(sans.includes("IP Address:127.0.0.1"));
    assert.ok(sans.includes("IP Address:0:0:0:0:0:0:0:1"));
  });
  it("the CA is a CA and signed the serving certificate", () => {
    const ca = new X509Certificate(bundle.caPem);
    assert.equal(ca.ca, true);
    assert.ok(new X509Certificate(bundle.certPem).verify(ca.publicKey));
  });
  it("the key in tls.key is the serving certificate's", () => {
    assert.equal(certProblem(bundle, { hosts }), undefined);
  });
});

describe("certProblem", () => {
  const other = generateWebhookCerts({ hosts });
  const later = (days: number): Date => new Date(Date.now() + days * 86_400_000);
  const cases: { name: string; bundle: typeof bundle; hosts?: string[]; now?: Date; problem: RegExp }[] = [
    {
      name: "another service's name",
      bundle,
      hosts: ["other.ns.svc"],
      problem: /does not cover other\.ns\.svc/,
    },
    {
      name: "a key from another set",
      bundle: { ...bundle, keyPem: other.keyPem },
      problem: /does not match/,
    },
    {
      name: "a CA from another set",
      bundle: { ...bundle, caPem: other.caPem },
      problem: /not signed by ca\.crt/,
    },
    {
      name: "ten days before expiry",
      bundle: generateWebhookCerts({ hosts, validityDays: 40 }),
      now: later(30),
      problem: /expires at/,
    },
    { name: "garbage PEM", bundle: { ...bundle, certPem: "not a certificate" }, problem: /cannot parse/ },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      assert.match(
        certProblem(c.bundle, { hosts: c.hosts ?? hosts, ...(c.now ? { now: c.now } : {}) }) ?? "",
        c.problem,
      );
    });
  }
});

describe("DER encoding", () => {
  const cases: { name: string; bytes: Buffer; hex: string }[] = [
    {
      name: "an INTEGER with the high bit set gets a leading zero",
      bytes: der.integer(Buffer.from([0x80])),
      hex: "02020080",
    },
    {
      name: "an INTEGER drops redundant leading zeros",
      bytes: der.integer(Buffer.from([0, 0, 1])),
      hex: "020101",
    },
    {
      name: "an OID with multi-byte arcs",
      bytes: der.objectIdentifier("1.2.840.10045.4.3.2"),
      hex: "06082a8648ce3d040302",
    },
    { name: "key usage bits 0, 5, 6 leave one unused bit", bytes: der.namedBits([0, 5, 6]), hex: "03020186" },
    {
      name: "a long length uses the 0x81 form",
      bytes: der.octetString(Buffer.alloc(200)).subarray(0, 3),
      hex: "0481c8",
    },
    {
      name: "UTCTime before 2050",
      bytes: der.time(new Date("2030-01-02T03:04:05Z")),
      hex: Buffer.concat([Buffer.from([0x17, 13]), Buffer.from("300102030405Z")]).toString("hex"),
    },
    {
      name: "GeneralizedTime from 2050",
      bytes: der.time(new Date("2051-01-02T03:04:05Z")),
      hex: Buffer.concat([Buffer.from([0x18, 15]), Buffer.from("20510102030405Z")]).toString("hex"),
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(c.bytes.toString("hex"), c.hex));
  }
});
