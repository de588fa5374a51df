// Using a live cluster instead of starting one: KUBECONFIG + SFPROMPT_USE_EXISTING_CLUSTER=1
// (envtest's USE_EXISTING_CLUSTER in our namespace).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { ControlPlane } from "./control-plane.js";
import { ControlPlaneStartError } from "./errors.js";
import { registerTempDir } from "./processes.js";

export function useExistingCluster(): boolean {
  return process.env.SFPROMPT_USE_EXISTING_CLUSTER === "1" && !!process.env.KUBECONFIG;
}

/** The cluster named by KUBECONFIG; stop() leaves it running. */
export function existingCluster(): ControlPlane {
  const paths = (process.env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  let kubeconfigPath = paths[0]!;
  if (paths.length > 1) {
    // kubectl --kubeconfig takes one file: write the merged view.
    const dir = mkdtempSync(join(tmpdir(), "sfprompt-kubeconfig-"));
    registerTempDir(dir);
    kubeconfigPath = join(dir, "kubeconfig");
    writeFileSync(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
  }
  const apiUrl = kubeConfig.getCurrentCluster()?.server;
  if (!apiUrl) {
    throw new ControlPlaneStartError(
      "existing cluster",
      `KUBECONFIG=${process.env.KUBECONFIG} has no current cluster; set its current-context`,
      "",
    );
  }
  return { kubeconfigPath, kubeConfig, apiUrl, external: true, dir: undefined, stop: async () => {} };
}
