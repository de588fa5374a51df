// The admin kubeconfig of a test control plane: certificates embedded, so the file stands alone.
import { readFile, writeFile } from "node:fs/promises";
import yaml from "js-yaml";

export interface KubeconfigInput {
  server: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  /** Cluster, user and context name. */
  name: string;
}

const b64 = async (path: string): Promise<string> => (await readFile(path)).toString("base64");

/** Renders a kubeconfig whose current context is the admin user on `server`. */
export async function renderKubeconfig(input: KubeconfigInput): Promise<string> {
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: input.name,
        cluster: { server: input.server, "certificate-authority-data": await b64(input.caCert) },
      },
    ],
    users: [
      {
        name: input.name,
        user: {
          "client-certificate-data": await b64(input.clientCert),
          "client-key-data": await b64(input.clientKey),
        },
      },
    ],
    contexts: [
      { name: input.name, context: { cluster: input.name, user: input.name, namespace: "default" } },
    ],
    "current-context": input.name,
  };
  return yaml.dump(doc, { lineWidth: -1 });
}

/** Writes the kubeconfig to `path` (mode 0600, as kubectl expects for credentials). */
export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<void> {
  await writeFile(path, await renderKubeconfig(input), { mode: 0o600 });
}
