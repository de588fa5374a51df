// Builds X.509 v3 certificates with ECDSA P-256 keys from node's crypto: a self-signed CA and
// serving certificates signed by it, enough for the admission webhook's TLS (docs/adr).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isIP, isIPv4 } from "node:net";
import * as der from "./der.js";

const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

/** Key usage bit numbers (RFC 5280 §4.2.1.3). */
const DIGITAL_SIGNATURE = 0;
const KEY_CERT_SIGN = 5;
const CRL_SIGN = 6;

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** A certificate with its private key, both PEM. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface CertificateSpec {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName (a serving certificate needs at least one). */
  hosts?: readonly string[];
  isCA: boolean;
  notBefore: Date;
  notAfter: Date;
}

export function newKeyPair(): KeyPair {
  return generateKeyPairSync("ec", { namedCurve: "prime256v1" });
}

function name(commonName: string): Buffer {
  const rdn = (oid: string, value: string): Buffer =>
    der.set(der.sequence(der.objectIdentifier(oid), der.utf8String(value)));
  return der.sequence(rdn(OID.organization, "sfprompt"), rdn(OID.commonName, commonName));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  const flag = critical ? [der.boolean(true)] : [];
  return der.sequence(der.objectIdentifier(oid), ...flag, der.octetString(value));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  // Expand "::" so that the address has eight 16-bit groups.
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, "0"), "hex")));
}

function subjectAltName(hosts: readonly string[]): Buffer {
  const names = hosts.map((h) =>
    isIP(h) ? der.implicit(7, ipBytes(h)) : der.implicit(2, Buffer.from(h, "ascii")),
  );
  return der.sequence(...names);
}

/** RFC 5280 §4.2.1.2 method (1) over the whole SubjectPublicKeyInfo: any stable hash will do. */
function keyId(publicKey: KeyObject): Buffer {
  return createHash("sha1")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest();
}

function extensions(spec: CertificateSpec, subjectKey: KeyObject, issuerKey: KeyObject): Buffer {
  const list = [
    extension(OID.basicConstraints, true, spec.isCA ? der.sequence(der.boolean(true)) : der.sequence()),
    extension(
      OID.keyUsage,
      true,
      der.namedBits(spec.isCA ? [DIGITAL_SIGNATURE, KEY_CERT_SIGN, CRL_SIGN] : [DIGITAL_SIGNATURE]),
    ),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyId(subjectKey))),
    extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, keyId(issuerKey)))),
  ];
  if (!spec.isCA)
    list.push(extension(OID.extKeyUsage, false, der.sequence(der.objectIdentifier(OID.serverAuth))));
  if (spec.hosts && spec.hosts.length > 0)
    list.push(extension(OID.subjectAltName, false, subjectAltName(spec.hosts)));
  return der.explicit(3, der.sequence(...list));
}

function pem(label: string, body: Buffer): string {
  const lines = body.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Signs a certificate for `subject`'s public key. `issuer` is the CA (its common name and private
 * key); without it the certificate is self-signed.
 */
export function issueCertificate(
  spec: CertificateSpec,
  subject: KeyPair,
  issuer?: { commonName: string; keys: KeyPair },
): IssuedCertificate {
  const signer = issuer?.keys ?? subject;
  const algorithm = der.sequence(der.objectIdentifier(OID.ecdsaWithSha256));
  // Serial numbers are positive and at most 20 bytes; 16 random bytes with the top bit cleared.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(serial),
    algorithm,
    name(issuer?.commonName ?? spec.commonName),
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    name(spec.commonName),
    subject.publicKey.export({ type: "spki", format: "der" }),
    extensions(spec, subject.publicKey, signer.publicKey),
  );
  // node signs EC keys with a DER-encoded ECDSA-Sig-Value, which is what X.509 carries.
  const signature = sign("sha256", tbs, signer.privateKey);
  return {
    certPem: pem("CERTIFICATE", der.sequence(tbs, algorithm, der.bitString(signature))),
    keyPem: subject.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}
