// Test PKI for one control plane, as envtest makes it: a CA, the API server's serving certificate,
// an admin client certificate in system:masters, and the service-account signing key pair.
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CertificateError } from "./errors.js";

const run = promisify(execFile);

export interface ControlPlaneCerts {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function openssl(args: string[], what: string): Promise<void> {
  try {
    await run("openssl", args);
  } catch (err) {
    const hint =
      (err as NodeJS.ErrnoException).code === "ENOENT"
        ? "openssl is not installed; install it with `apt-get install openssl`"
        : ((err as { stderr?: string }).stderr ?? "").trim();
    throw new CertificateError(`generating the ${what} with openssl failed: ${hint}`, { cause: err });
  }
}

async function signLeaf(
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions.join("\n") + "\n");
  await openssl(["req", "-new", ...ecKey, "-keyout", key, "-out", csr, "-subj", subject], `${name} key`);
  const serial = "0x" + randomBytes(8).toString("hex");
  await openssl(
    ["x509", "-req", "-in", csr, "-CA", join(dir, "ca.crt"), "-CAkey", join(dir, "ca.key")].concat([
      "-set_serial",
      serial,
      "-days",
      "7",
      "-out",
      cert,
      "-extfile",
      ext,
    ]),
    `${name} certificate`,
  );
  return { cert, key };
}

/** Writes the PKI into `dir` and returns the file paths. */
export async function generateCerts(dir: string): Promise<ControlPlaneCerts> {
  const caCert = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  await openssl(
    [
      "req",
      "-x509",
      ...ecKey,
      "-keyout",
      caKey,
      "-out",
      caCert,
      "-days",
      "7",
      "-subj",
      "/CN=sfprompt-test-ca",
    ].concat([
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]),
    "CA",
  );
  const leaf = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment"];
  const [serving, admin] = await Promise.all([
    signLeaf(dir, "apiserver", "/CN=kube-apiserver", [
      ...leaf,
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]),
    signLeaf(dir, "admin", "/O=system:masters/CN=sfprompt-test-admin", [
      ...leaf,
      "extendedKeyUsage=clientAuth",
    ]),
  ]);
  // Service-account tokens are signed with this key; kube-controller-manager signs with it too.
  const sa = generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const serviceAccountKey = join(dir, "sa.key");
  const serviceAccountPub = join(dir, "sa.pub");
  await writeFile(serviceAccountKey, sa.privateKey, { mode: 0o600 });
  await writeFile(serviceAccountPub, sa.publicKey);
  return {
    caCert,
    caKey,
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey,
    serviceAccountPub,
  };
}
