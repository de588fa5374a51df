// Starts a disposable Kubernetes control plane (etcd + kube-apiserver, optionally kube-controller-manager
// and kube-scheduler) on loopback with envtest's default flags, or hands out an existing cluster.
import { mkdtemp, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { resolveKubeBinary } from "./binaries.js";
import { generateCerts, type ControlPlaneCerts } from "./certs.js";
import { ControlPlaneStartError } from "./errors.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { freePorts } from "./ports.js";
import {
  registerTempDir,
  removeTempDir,
  startError,
  startProcess,
  sweepStaleTempDirs,
  type ManagedProcess,
} from "./processes.js";
import { startControllerManager, startScheduler } from "./controllers.js";
import { probeReadyz } from "./readyz.js";
import { existingCluster, useExistingCluster } from "./existing-cluster.js";

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (garbage collection, Deployment → ReplicaSet, default SAs). */
  controllerManager?: boolean;
  /** Also run kube-scheduler, which binds pods to Ready nodes (see createReadyNode); no kubelet runs them. */
  scheduler?: boolean;
  /** Extra kube-apiserver flags (`--name=value`), appended after the defaults. */
  apiServerArgs?: string[];
  /** How long etcd + kube-apiserver may take to become ready (default 60 s, or envtest's
   *  KUBEBUILDER_CONTROLPLANE_START_TIMEOUT such as "90s"). */
  startTimeoutMs?: number;
}

export interface ControlPlane {
  /** A kubeconfig file with admin (system:masters) credentials; pass it to kubectl and helm. */
  kubeconfigPath: string;
  /** The same credentials, loaded. */
  kubeConfig: KubeConfig;
  /** https://127.0.0.1:<port> (or the existing cluster's server). */
  apiUrl: string;
  /** True when an existing cluster (KUBECONFIG + SFPROMPT_USE_EXISTING_CLUSTER=1) is used. */
  external: boolean;
  /** The folder with certificates, etcd data and logs (removed by stop()); undefined when external. */
  dir: string | undefined;
  /** Kills every process and removes the folder; safe to call twice. */
  stop(): Promise<void>;
}

interface Started {
  procs: ManagedProcess[];
  apiUrl: string;
}

const startAttempts = 3;

function startTimeout(opts: ControlPlaneOptions): number {
  if (opts.startTimeoutMs) return opts.startTimeoutMs;
  const env = process.env.KUBEBUILDER_CONTROLPLANE_START_TIMEOUT;
  const m = env ? /^(\d+)(ms|s|m)?$/.exec(env) : null;
  if (m) return Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000);
  return 60_000;
}

function etcdArgs(dir: string, client: number, peer: number): string[] {
  const c = `http://127.0.0.1:${client}`;
  const p = `http://127.0.0.1:${peer}`;
  return [
    "--name=sfprompt-test",
    `--data-dir=${join(dir, `etcd-${client}`)}`, // fresh per attempt: a retry must not reuse a bootstrapped member
    `--listen-client-urls=${c}`,
    `--advertise-client-urls=${c}`,
    `--listen-peer-urls=${p}`,
    `--initial-advertise-peer-urls=${p}`,
    `--initial-cluster=sfprompt-test=${p}`,
    "--unsafe-no-fsync", // test data is thrown away; fsync only costs time
    "--log-level=warn",
  ];
}

// controller-runtime's envtest defaults (pkg/internal/testing/controlplane/apiserver.go).
function apiServerArgs(certs: ControlPlaneCerts, dir: string, port: number, etcd: number): string[] {
  return [
    "--advertise-address=127.0.0.1",
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, "apiserver-certs")}`,
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.caCert}`,
    `--etcd-servers=http://127.0.0.1:${etcd}`,
    `--service-account-issuer=https://127.0.0.1:${port}/`,
    `--service-account-key-file=${certs.serviceAccountPub}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    "--authorization-mode=RBAC",
  ];
}

async function waitReady(
  procs: ManagedProcess[],
  apiUrl: string,
  certs: ControlPlaneCerts,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const dead = procs.find((p) => !p.running());
    if (dead) throw startError(dead, `exited with ${await dead.exited} before the API server was ready`);
    const probe = await probeReadyz(apiUrl, certs);
    if (probe.ready) return;
    if (Date.now() > deadline) {
      throw startError(procs[1]!, `/readyz not ok after ${ms} ms (last answer: ${probe.detail})`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function startCore(
  bin: { etcd: string; api: string },
  dir: string,
  certs: ControlPlaneCerts,
  opts: ControlPlaneOptions,
): Promise<Started> {
  const [client, peer, secure] = (await freePorts(3)) as [number, number, number];
  await mkdir(join(dir, "logs"), { recursive: true });
  const etcd = startProcess("etcd", bin.etcd, etcdArgs(dir, client, peer), join(dir, "logs", "etcd.log"));
  const api = startProcess(
    "kube-apiserver",
    bin.api,
    [...apiServerArgs(certs, dir, secure, client), ...(opts.apiServerArgs ?? [])],
    join(dir, "logs", "kube-apiserver.log"),
  );
  const apiUrl = `https://127.0.0.1:${secure}`;
  try {
    await waitReady([etcd, api], apiUrl, certs, startTimeout(opts));
    return { procs: [etcd, api], apiUrl };
  } catch (err) {
    await Promise.all([api.kill(), etcd.kill()]);
    throw err;
  }
}

/**
 * Starts etcd and kube-apiserver (and kube-controller-manager / kube-scheduler when asked) and returns
 * admin access. Uses the cluster in KUBECONFIG instead when SFPROMPT_USE_EXISTING_CLUSTER=1.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  if (useExistingCluster()) return existingCluster();
  const t0 = Date.now();
  const bin = { etcd: resolveKubeBinary("etcd"), api: resolveKubeBinary("kube-apiserver") };
  const kcmBin = opts.controllerManager ? resolveKubeBinary("kube-controller-manager") : undefined;
  const schedBin = opts.scheduler ? resolveKubeBinary("kube-scheduler") : undefined;
  sweepStaleTempDirs(tmpdir(), "sfprompt-kube-");
  const dir = await mkdtemp(join(tmpdir(), "sfprompt-kube-"));
  registerTempDir(dir);
  const procs: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
    removeTempDir(dir);
  };
  try {
    const certs = await generateCerts(dir);
    let started: Started | undefined;
    for (let attempt = 1; !started; attempt++) {
      try {
        started = await startCore(bin, dir, certs, opts);
      } catch (err) {
        // Another process may grab a port between picking and binding; pick again.
        if (
          !(err instanceof ControlPlaneStartError) ||
          attempt >= startAttempts ||
          !/already in use/i.test(err.message)
        )
          throw err;
      }
    }
    procs.push(...started.procs);
    const kubeconfigPath = join(dir, "kubeconfig");
    await writeKubeconfig(kubeconfigPath, {
      server: started.apiUrl,
      caCert: certs.caCert,
      clientCert: certs.adminCert,
      clientKey: certs.adminKey,
      name: "sfprompt-test",
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const ctx = { dir, certs, kubeconfigPath, kubeConfig };
    // allSettled: a component that started must be stopped even when the other one failed.
    const extras = await Promise.allSettled([
      kcmBin ? startControllerManager(kcmBin, ctx) : undefined,
      schedBin ? startScheduler(schedBin, ctx) : undefined,
    ]);
    for (const r of extras) if (r.status === "fulfilled" && r.value) procs.push(r.value);
    const failed = extras.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    console.error(
      JSON.stringify({
        level: "info",
        msg: "test control plane ready",
        apiUrl: started.apiUrl,
        controllerManager: !!kcmBin,
        scheduler: !!schedBin,
        startMs: Date.now() - t0,
        dir,
      }),
    );
    return { kubeconfigPath, kubeConfig, apiUrl: started.apiUrl, external: false, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
