// The operator process put together: HTTP endpoints, leader election, and (while leading) the job
// manager. startOperator is what main.ts and the integration tests call.
import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import type { Express } from "express";
import type { OperatorConfig } from "./config.js";
import { createHttpApp, listen, type Listening } from "./http/http-server.js";
import { mountJobRounds } from "./http/job-rounds.js";
import { LeaderElector } from "./leader/leader-elector.js";
import { LeaderPodLabel } from "./leader/leader-pod-label.js";
import { createLogger, type Logger } from "./log.js";
import { OperatorMetrics } from "./metrics.js";
import { JobManager } from "./reconcile/job-manager.js";
import { JOB_METRIC_FAMILIES, jobsByPhase, jobsSamples } from "./status/job-metrics.js";

export interface OperatorOptions {
  /** Cluster access (default: in-cluster, else KUBECONFIG/~/.kube/config). */
  kubeConfig?: KubeConfig;
  log?: Logger;
  /** Adds routes to the HTTP app (e.g. an admission webhook handler mounted by the chart's helper). */
  extendHttp?: (app: Express) => void;
  /** Called when leadership is lost while not shutting down (main.ts exits then, as client-go does). */
  onLostLeadership?: () => void;
}

export interface RunningOperator {
  /** The bound HTTP port (/healthz, /readyz, /metrics). */
  httpPort: number;
  isLeader(): boolean;
  metrics: OperatorMetrics;
  /** The current leadership term's manager (undefined while not leading). */
  manager(): JobManager | undefined;
  /** Graceful shutdown: stop informers, drain the queue, release the lease, drain NATS, close HTTP. */
  stop(): Promise<void>;
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export async function startOperator(
  config: OperatorConfig,
  opts: OperatorOptions = {},
): Promise<RunningOperator> {
  const kc = opts.kubeConfig ?? defaultKubeConfig();
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const metrics = new OperatorMetrics();
  let manager: JobManager | undefined;
  let stopping = false;
  let transition: Promise<void> = Promise.resolve();
  // The <fullname>-leader Service selects this label, so the rounds views reach the leader only.
  const podLabel = config.leaderPod
    ? new LeaderPodLabel(kc, {
        ...config.leaderPod,
        retryMs: config.leaderElection.retryPeriodMs,
        maxRetryMs: 2 * config.leaderElection.leaseDurationMs,
        resyncMs: config.resyncMs,
        log,
      })
    : undefined;

  const lead = (): void => {
    transition = transition.then(async () => {
      if (stopping || manager) return;
      podLabel?.start();
      const m = new JobManager(kc, config, metrics, log);
      manager = m;
      await m.start().catch((err: unknown) => log.error("could not start the controller", { err }));
    });
  };
  const unlead = (): void => {
    transition = transition.then(async () => {
      const m = manager;
      manager = undefined;
      await Promise.all([podLabel?.stop(), m?.stop()]);
      if (!stopping) opts.onLostLeadership?.();
    });
  };

  const elector = config.leaderElection.enabled
    ? new LeaderElector(kc, {
        ...config.leaderElection,
        log,
        onStartedLeading: lead,
        onStoppedLeading: unlead,
      })
    : undefined;
  const isLeader = (): boolean => (elector ? elector.isLeader : true);
  metrics.addGauge({
    name: "sfprompt_operator_is_leader",
    help: "1 while this process leads.",
    read: () => [{ value: isLeader() ? 1 : 0 }],
  });
  metrics.addGauge({
    name: "sfprompt_operator_workqueue_depth",
    help: "Job keys waiting in the work queue (not counting delayed ones).",
    read: () => [{ value: manager?.queue.length ?? 0 }],
  });
  // Only a leader with synced caches reports jobs: a standby's cache is empty (it runs no informers),
  // and one mid-sync may miss a namespace's jobs.
  const syncedJobs = (): { jobs: KubernetesObject[]; manager: JobManager } | undefined => {
    const m = manager;
    return isLeader() && m?.informers.hasSynced ? { jobs: m.informers.jobs(), manager: m } : undefined;
  };
  metrics.addGauge({
    name: "sfprompt_operator_jobs",
    help: "Jobs by status.phase as kubectl get shows it, the sum of sfprompt_job_phase by phase (Unknown: a stored phase the operator does not know; a job with no phase yet is in none).",
    read: () => {
      const synced = syncedJobs();
      return synced ? jobsByPhase(synced.jobs) : [];
    },
  });
  metrics.addGaugeFamilies({
    families: JOB_METRIC_FAMILIES,
    read: () => {
      const synced = syncedJobs();
      if (!synced) return [];
      return jobsSamples(synced.jobs, (job, issues) => synced.manager.unreadable.report(job, issues));
    },
  });

  const app = createHttpApp({
    healthy: () => true,
    ready: () => {
      if (stopping) return { ok: false, reason: "shutting down" };
      if (!isLeader()) return { ok: true, reason: "standby (not the leader)" };
      return manager?.informers.hasSynced
        ? { ok: true, reason: "ok" }
        : { ok: false, reason: "caches not synced yet" };
    },
    metrics: () => metrics.render(),
    extend: (app) => {
      // read-only: the rounds the leader folded from each job's progress stream
      mountJobRounds(app, (namespace, name) =>
        isLeader() ? (manager?.rounds(namespace, name) ?? "not-tracked") : "standby",
      );
      opts.extendHttp?.(app);
    },
  });
  const http: Listening = await listen(app, config.http.host, config.http.port);
  log.info("operator started", {
    httpPort: http.port,
    namespaces: config.namespaces,
    leaderElection: config.leaderElection.enabled,
  });
  if (elector) elector.start();
  else lead();

  return {
    httpPort: http.port,
    isLeader,
    metrics,
    manager: () => manager,
    async stop() {
      stopping = true;
      if (elector)
        await elector.stop(); // stops leading → unlead() tears the manager down
      else unlead();
      await transition;
      await http.close();
      log.info("operator stopped");
    },
  };
}
