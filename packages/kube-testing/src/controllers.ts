// The optional control-plane components: kube-controller-manager and kube-scheduler, each started
// against the test API server with the admin kubeconfig and waited for until it works.
import { join } from "node:path";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { ControlPlaneCerts } from "./certs.js";
import { freePort } from "./ports.js";
import { startError, startProcess, type ManagedProcess } from "./processes.js";
import { probeReadyz } from "./readyz.js";
import { waitFor } from "./wait.js";

export interface ComponentContext {
  dir: string;
  certs: ControlPlaneCerts;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
}

const startTimeoutMs = 60_000;

async function untilReady(
  proc: ManagedProcess,
  check: () => Promise<unknown>,
  description: string,
): Promise<ManagedProcess> {
  const outcome = await waitFor(
    async () => {
      if (!proc.running()) return "exited" as const;
      await check();
      return "ready" as const;
    },
    { timeoutMs: startTimeoutMs, intervalMs: 200, description },
  ).catch(async (err: unknown) => {
    await proc.kill();
    throw startError(proc, "did not become ready", err);
  });
  if (outcome === "exited") throw startError(proc, `exited with ${await proc.exited}`);
  return proc;
}

/** kube-controller-manager with every default controller; ready once it made default/default's ServiceAccount. */
export async function startControllerManager(bin: string, ctx: ComponentContext): Promise<ManagedProcess> {
  const kcm = startProcess(
    "kube-controller-manager",
    bin,
    [
      `--kubeconfig=${ctx.kubeconfigPath}`,
      "--leader-elect=false",
      "--secure-port=0", // no endpoint needed: readiness is judged by the controllers' effects
      `--service-account-private-key-file=${ctx.certs.serviceAccountKey}`,
      `--root-ca-file=${ctx.certs.caCert}`,
      // No kubelet heartbeats here: node lifecycle would taint test nodes unreachable after ~50 s
      // and evict their pods, so it is off.
      "--controllers=*,-node-lifecycle-controller",
    ],
    join(ctx.dir, "logs", "kube-controller-manager.log"),
  );
  const core = ctx.kubeConfig.makeApiClient(CoreV1Api);
  return untilReady(
    kcm,
    () => core.readNamespacedServiceAccount({ name: "default", namespace: "default" }),
    "kube-controller-manager to create the default ServiceAccount",
  );
}

/** kube-scheduler; ready once its /readyz (informers synced) answers 200. */
export async function startScheduler(bin: string, ctx: ComponentContext): Promise<ManagedProcess> {
  const port = await freePort();
  const sched = startProcess(
    "kube-scheduler",
    bin,
    [
      `--kubeconfig=${ctx.kubeconfigPath}`,
      `--authentication-kubeconfig=${ctx.kubeconfigPath}`,
      `--authorization-kubeconfig=${ctx.kubeconfigPath}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
      `--cert-dir=${join(ctx.dir, "scheduler-certs")}`,
    ],
    join(ctx.dir, "logs", "kube-scheduler.log"),
  );
  return untilReady(
    sched,
    async () => {
      const probe = await probeReadyz(`https://127.0.0.1:${port}`, undefined);
      if (!probe.ready) throw new Error(`kube-scheduler /readyz: ${probe.detail}`);
    },
    "kube-scheduler's /readyz",
  );
}
