// The progress view of `sfprompt run` on a server that goes on from a checkpoint (run.resumed, ADR
// 0046): the round shows at once, with the job it came from and, where the server sends them, its
// loss and accuracy (amendment 2); no bytes are counted for it. An
// earlier session's run.resumed (left unread in the stream) never reaches the view: see
// run-earlier-events.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProgressEvent } from "@sfprompt/protocol";
import { JobProgressView, StatusLine, type Sink } from "../src/run/progress-view.js";

const AFTER = "2026-11-27T10:00:05.000Z";

/** A terminal (or a pipe) that keeps what was written to it. */
class Screen implements Sink {
  text = "";
  constructor(readonly isTTY: boolean) {}
  write(t: string): void {
    this.text += t;
  }
  /** The permanent lines written so far. */
  lines(): string[] {
    return this.text
      .split("\n")
      .slice(0, -1)
      .map((l) => l.split("\r\x1b[2K").at(-1) as string);
  }
  /** The status line as a terminal shows it now (the text after its last redraw). */
  status(): string {
    return this.text.split("\r\x1b[2K").at(-1) as string;
  }
}

function resumed(
  round: number,
  from?: string,
  scores?: { readonly loss: number; readonly accuracy: number },
): ProgressEvent {
  return {
    v: 1,
    job: "job-b",
    at: AFTER,
    type: "run.resumed",
    round,
    bucket: from === undefined ? "sfp-job-b" : `sfp-${from}`,
    object: `checkpoints/round-${round}.bin`,
    ...(from === undefined ? {} : { from: { job: from, bucket: `sfp-${from}` } }),
    ...scores,
  };
}

function started(round: number): ProgressEvent {
  return { v: 1, job: "job-b", at: AFTER, type: "round.started", round, selected: ["c0", "c1"] };
}

function finished(round: number): ProgressEvent {
  return {
    v: 1,
    job: "job-b",
    at: AFTER,
    type: "round.finished",
    round,
    loss: 1.5,
    accuracy: 0.25,
    participants: ["c0", "c1"],
    samples: 64,
    durationMs: 1000,
    bytes: { up: 600, down: 400, byKind: { activation: 600, gradient: 400 } },
  };
}

/** A view of job-b's 4 rounds on `screen`, after `events`. */
function viewAfter(screen: Screen, events: readonly ProgressEvent[]): JobProgressView {
  const view = new JobProgressView(new StatusLine(screen), "job-b", 4);
  for (const e of events) view.onEvent(e);
  return view;
}

describe("the progress view of a resumed run", () => {
  it("shows the round another job's checkpoint ends with at once, naming that job, with no bytes", () => {
    const screen = new Screen(true);
    viewAfter(screen, [resumed(2, "job-a")]);
    assert.match(
      screen.status(),
      /^job-b \[#{12}-{12}\] round 2\/4 resumed from job job-a's round 2 \(\d+s\) \| loss - acc - \| 0 B$/,
    );
    assert.deepEqual(screen.lines(), ["job-b round 2/4 resumed from job job-a's round 2"]);
  });

  it("says a checkpoint of the job's own is its own", () => {
    const screen = new Screen(true);
    viewAfter(screen, [resumed(3)]);
    assert.match(screen.status(), /\] round 3\/4 resumed from its own checkpoint \(/);
    assert.deepEqual(screen.lines(), ["job-b round 3/4 resumed from its own checkpoint"]);
  });

  it("prints the resumed round's line on a pipe before the first new round's, and counts only that round's bytes", () => {
    const screen = new Screen(false);
    viewAfter(screen, [resumed(2, "job-a"), started(3), finished(3)]);
    const lines = screen.lines();
    assert.equal(lines.length, 2, screen.text);
    assert.equal(lines[0], "job-b round 2/4 resumed from job job-a's round 2");
    assert.match(lines[1] ?? "", /^job-b round 3\/4 phase done .* bytes=1 kB /);
  });

  it("shows the resumed round's loss and accuracy where the server sent them (a session that stopped as that round finished printed neither)", () => {
    const screen = new Screen(true);
    const round = finished(3);
    assert.ok(round.type === "round.finished");
    viewAfter(screen, [resumed(3, undefined, { loss: round.loss, accuracy: round.accuracy })]);
    const loss = round.loss.toFixed(4);
    const accuracy = (round.accuracy * 100).toFixed(2);
    assert.deepEqual(screen.lines(), [
      `job-b round 3/4 resumed from its own checkpoint loss=${loss} accuracy=${accuracy}%`,
    ]);
    assert.match(screen.status(), new RegExp(`\\| loss ${loss} acc ${accuracy}% \\| 0 B$`));
  });

  it("shows the next round, not the resume, once that round starts", () => {
    const screen = new Screen(true);
    viewAfter(screen, [resumed(2, "job-a"), started(3)]);
    assert.match(screen.status(), /^job-b \[#{12}-{12}\] round 3\/4 aggregating\/evaluating .*\| 0 B$/);
    assert.doesNotMatch(screen.status(), /resumed/);
  });

  it("forgets the resume when the job starts over under a new attempt", () => {
    const screen = new Screen(true);
    const view = viewAfter(screen, [resumed(2, "job-a")]);
    view.restart();
    view.onEvent(started(1));
    assert.match(screen.status(), /^job-b \[-{24}\] round 1\/4 aggregating\/evaluating /);
  });
});
