// Fixtures shared by the leader-pod-label tests: the release's operator pods, made in a real
// kube-apiserver.
import type { CoreV1Api } from "@kubernetes/client-node";

/** The release's operator pods are selected by these labels, as the chart's selector labels do. */
export const release = (instance: string): Record<string, string> => ({
  "app.kubernetes.io/instance": instance,
  "app.kubernetes.io/component": "operator",
});

/** Makes a pod named `name` in namespace default with `labels`. */
export async function createPod(
  core: CoreV1Api,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await core.createNamespacedPod({
    namespace: "default",
    body: {
      metadata: { name, labels },
      spec: { containers: [{ name: "operator", image: "ghcr.io/sfprompt/operator:0.1.0" }] },
    },
  });
}
