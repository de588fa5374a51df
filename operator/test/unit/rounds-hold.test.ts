// The reconciler's guard for an edit of spec.training.rounds below the job's newest checkpoint
// (ADR 0039): which edits are held, at which rounds the job goes on, the SpecRejected condition, its
// Warning once per edit, and the run config the children are given.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { SFPromptJob, Status } from "@sfprompt/api";
import { desiredChildren } from "../../src/desired/children.js";
import { desiredConfigMap, renderedRounds } from "../../src/desired/config-map.js";
import { planClients } from "../../src/desired/restart-plan.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { holdRounds } from "../../src/reconcile/rounds-hold.js";
import { transitionEvents } from "../../src/reconcile/transition-events.js";
import { computeStatus } from "../../src/status/compute-status.js";
import { decideLifecycle } from "../../src/status/lifecycle.js";
import { job, refOf, type SpecInput } from "../fixtures.js";
import { DEFAULT_CHILD_SETTINGS } from "../../src/desired/settings.js";

const NOW = new Date("2026-01-01T01:00:00.000Z");

/** The job as edited to `spec`, at generation `generation`. */
function edited(spec: SpecInput, generation = 2): SFPromptJob {
  const j = job("demo", { clients: { count: 1 }, ...spec });
  return { ...j, metadata: { ...j.metadata, generation } };
}

/** The ConfigMap the children were given for a job of `rounds` rounds. */
function deployed(rounds: number): V1ConfigMap {
  const j = job("demo", { clients: { count: 1 }, training: { rounds } });
  return desiredConfigMap(j, refOf(j));
}

const checkpointed = (round: number): ProgressSnapshot => ({
  ...emptySnapshot(),
  round,
  lastCheckpoint: { round, object: `checkpoints/round-${round}` },
});

const running = (rest: Partial<Status> = {}): Status => ({ phase: "Running", rounds: 10, ...rest });

interface World {
  spec: SpecInput;
  previous?: Status;
  progress?: ProgressSnapshot;
  configMap?: V1ConfigMap;
}

function reconcileOnce(w: World, generation = 2) {
  const j = { ...edited(w.spec, generation), status: w.previous };
  const plans = planClients(1, [], { limit: 1, baseMs: 1, maxMs: 1 }, NOW.getTime());
  const lifecycle = decideLifecycle({ job: j, previous: w.previous, progress: w.progress, plans, now: NOW });
  const hold = holdRounds({
    job: j,
    previous: w.previous,
    progress: w.progress,
    configMap: w.configMap,
  });
  const status = computeStatus({
    job: { ...hold.job, status: w.previous },
    lifecycle,
    deployment: undefined,
    plans,
    progress: w.progress,
    now: NOW,
    ...(hold.held ? { held: hold.held } : {}),
  });
  const children = desiredChildren({
    job: hold.job,
    ref: refOf(j),
    settings: DEFAULT_CHILD_SETTINGS,
    jobKey: "k",
    lifecycle,
    plans,
  });
  const events = transitionEvents({
    previous: w.previous,
    next: status,
    job: hold.job,
    plans,
    restartLimit: 1,
    created: () => false,
  });
  const cm = children.apply.find((o) => o.kind === "ConfigMap") as V1ConfigMap;
  return { hold, status, rounds: renderedRounds(cm), configMap: cm, events };
}

describe("which edits are held", () => {
  const cases: { name: string; world: World; held: number | undefined }[] = [
    {
      name: "rounds below the checkpoint of the progress view: held at the deployed config's rounds",
      world: {
        spec: { training: { rounds: 3 } },
        previous: running(),
        progress: checkpointed(6),
        configMap: deployed(10),
      },
      held: 10,
    },
    {
      name: "before the replay caught up, the last status's checkpoint counts",
      world: {
        spec: { training: { rounds: 3 } },
        previous: running({ lastCheckpoint: { round: 6, object: "c" } }),
        configMap: deployed(8),
      },
      held: 8,
    },
    {
      name: "without the ConfigMap, the last status's rounds",
      world: {
        spec: { training: { rounds: 3 } },
        previous: running({ rounds: 9 }),
        progress: checkpointed(6),
      },
      held: 9,
    },
    {
      name: "with nothing that covers the checkpoint, the checkpoint's round",
      world: {
        spec: { training: { rounds: 3 } },
        previous: running({ rounds: 2 }),
        progress: checkpointed(6),
        configMap: deployed(2),
      },
      held: 6,
    },
    {
      name: "rounds equal to the checkpoint's round are applied (the job stops after it)",
      world: {
        spec: { training: { rounds: 6 } },
        previous: running(),
        progress: checkpointed(6),
        configMap: deployed(10),
      },
      held: undefined,
    },
    {
      name: "output.resume false is applied (the job starts over)",
      world: {
        spec: { training: { rounds: 3 }, output: { resume: false } },
        previous: running(),
        progress: checkpointed(6),
        configMap: deployed(10),
      },
      held: undefined,
    },
    {
      name: "a finished job holds nothing (it ignores the edit, ADR 0034)",
      world: {
        spec: { training: { rounds: 3 } },
        previous: {
          phase: "Succeeded",
          rounds: 10,
          conditions: [
            {
              type: "Succeeded",
              status: "True",
              reason: "TrainingCompleted",
              message: "",
              lastTransitionTime: NOW.toISOString(),
            },
          ],
        },
        progress: checkpointed(10),
        configMap: deployed(10),
      },
      held: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = reconcileOnce(c.world);
      const cond = r.status.conditions?.find((x) => x.type === "SpecRejected");
      if (c.held === undefined) {
        assert.equal(r.hold.held, undefined);
        assert.equal(cond, undefined);
        assert.equal(r.rounds, c.world.spec.training?.rounds, "the edit reaches the run config");
        return;
      }
      assert.equal(r.rounds, c.held, "the run config keeps the rounds the job goes on with");
      assert.equal(r.status.rounds, c.held);
      assert.equal(r.status.phase === "Failed", false);
      assert.equal(cond?.status, "True");
      assert.equal(cond?.reason, "RoundsBelowCheckpoint");
      assert.match(
        cond!.message,
        new RegExp(`^spec\\.training\\.rounds ${c.world.spec.training?.rounds} is below round \\d+`),
      );
      assert.match(cond!.message, new RegExp(`goes on with spec\\.training\\.rounds ${c.held}`));
      assert.match(cond!.message, /spec\.output\.resume: false/);
    });
  }
});

describe("the held edit over time", () => {
  const world: World = {
    spec: { training: { rounds: 3 } },
    previous: running(),
    progress: checkpointed(6),
    configMap: deployed(10),
  };
  it("a held edit renders the very ConfigMap the children have, so nothing rolls", () => {
    assert.deepEqual(reconcileOnce(world).configMap.data, deployed(10).data);
  });
  it("an edit that also changed something else renders it, with the held rounds", () => {
    const r = reconcileOnce({
      ...world,
      spec: { training: { rounds: 3, optimizer: { learningRate: 0.5 } } },
    });
    const config = JSON.parse(r.configMap.data!["run-config.json"]!) as {
      training: { rounds: number; optimizer: { learningRate: number } };
    };
    assert.deepEqual([config.training.rounds, config.training.optimizer.learningRate], [10, 0.5]);
  });
  it("one Warning SpecRejected per edit, naming the field", () => {
    const first = reconcileOnce(world);
    assert.deepEqual(
      first.events.map((e) => [e.type, e.reason]),
      [["Warning", "SpecRejected"]],
    );
    assert.match(first.events[0]!.message, /spec\.training\.rounds 3/);
    const again = reconcileOnce({ ...world, previous: first.status as Status });
    assert.deepEqual(again.events, [], "the next reconcile of the same generation says nothing");
    const next = reconcileOnce(
      { ...world, spec: { training: { rounds: 4 } }, previous: first.status as Status },
      3,
    );
    assert.deepEqual(
      next.events.map((e) => e.reason),
      ["SpecRejected"],
      "a new edit that is still too low is answered again",
    );
  });
  it("a held job that finishes reports the rounds it ran with, and its condition stays", () => {
    const held = reconcileOnce(world);
    const done: ProgressSnapshot = { ...checkpointed(10), outcome: { kind: "completed", round: 10 } };
    const finishing = reconcileOnce({ ...world, previous: held.status as Status, progress: done });
    assert.deepEqual([finishing.status.phase, finishing.status.progress], ["Succeeded", "10/10"]);
    const after = reconcileOnce({ ...world, previous: finishing.status as Status, progress: done });
    assert.deepEqual([after.status.phase, after.status.progress], ["Succeeded", "10/10"]);
    const cond = after.status.conditions?.find((x) => x.type === "SpecRejected");
    assert.deepEqual([cond?.status, cond?.reason], ["True", "RoundsBelowCheckpoint"]);
    assert.deepEqual(after.events, []);
  });
  it("a fixed spec is applied and the condition goes False", () => {
    const held = reconcileOnce(world);
    const fixed = reconcileOnce(
      { ...world, spec: { training: { rounds: 7 } }, previous: held.status as Status },
      3,
    );
    assert.equal(fixed.rounds, 7);
    assert.equal(fixed.status.rounds, 7);
    const cond = fixed.status.conditions?.find((x) => x.type === "SpecRejected");
    assert.deepEqual([cond?.status, cond?.reason], ["False", "SpecApplied"]);
    assert.deepEqual(fixed.events, []);
  });
});
