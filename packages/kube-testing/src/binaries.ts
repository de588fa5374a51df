// Where the Kubernetes test binaries live: KUBEBUILDER_ASSETS (envtest convention) first, then the
// cache that scripts/kube-bins.sh fills.
import { join } from "node:path";
import { KubeBinaryMissingError } from "./errors.js";
import { isExecutable, sfpromptCacheRoot } from "./local-paths.js";

/** The Kubernetes version scripts/kube-bins.sh builds (its KUBE_VERSION; a test keeps them equal). */
export const KUBE_VERSION = "1.35.4";

export type KubeBinary =
  "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubectl" | "helm" | "kwok";

// controller-runtime's per-binary overrides, kept for people who already set them.
const envOverride: Partial<Record<KubeBinary, string>> = {
  etcd: "TEST_ASSET_ETCD",
  "kube-apiserver": "TEST_ASSET_KUBE_APISERVER",
  kubectl: "TEST_ASSET_KUBECTL",
};

/** The folder scripts/kube-bins.sh caches binaries in: ~/.cache/sfprompt/kube/<version>/bin. */
export function kubeCacheBinDir(): string {
  return join(sfpromptCacheRoot(), "kube", KUBE_VERSION, "bin");
}

/** The candidate paths for a binary, in the order they are tried. */
export function candidatePaths(name: KubeBinary): string[] {
  const out: string[] = [];
  const override = envOverride[name];
  if (override && process.env[override]) out.push(process.env[override]);
  if (process.env.KUBEBUILDER_ASSETS) out.push(join(process.env.KUBEBUILDER_ASSETS, name));
  out.push(join(kubeCacheBinDir(), name));
  return out;
}

/** The path of an executable binary, or a KubeBinaryMissingError naming the script to run. */
export function resolveKubeBinary(name: KubeBinary): string {
  const paths = candidatePaths(name);
  const found = paths.find(isExecutable);
  if (!found) throw new KubeBinaryMissingError(name, paths);
  return found;
}
