// A self-signed certificate for 127.0.0.1 (openssl), for HTTPS servers that tests start: untrusted
// until a test's child process trusts it through SSL_CERT_FILE.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Writes key.pem and cert.pem into `dir`. */
export function writeSelfSignedCert(dir: string): void {
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
      ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
    ],
    { stdio: "ignore" },
  );
}
