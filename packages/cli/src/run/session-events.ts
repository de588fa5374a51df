// Which of a job's progress events the server of this `sfprompt run` session published. The job's
// stream keeps every session's events, and its durable consumer delivers those an earlier session
// did not take (published after it stopped reading: the round its server announced as it was
// stopped; or taken and never acked) to the next session first, or, unacked, after their ack wait.
// They are that session's: this one neither shows nor records them (ADR 0041, amendment 1).
import type { ProgressEvent } from "@sfprompt/protocol";

export class SessionEvents {
  private readonly earlierLaunches = new Set<string>();

  /** `lastSeq`: the stream's newest sequence before this session started its server (lastEventSeq). */
  constructor(private readonly lastSeq: number) {}

  /**
   * Whether the event at stream sequence `seq` is an earlier session's: stored before this session
   * started its server, or published by a server start (`launch`) one of those came from (an earlier
   * session's server still stopping, or still retrying its events, on a --nats server).
   */
  isEarlier(seq: number, e: Pick<ProgressEvent, "launch">): boolean {
    if (seq <= this.lastSeq) {
      if (e.launch !== undefined) this.earlierLaunches.add(e.launch);
      return true;
    }
    return e.launch !== undefined && this.earlierLaunches.has(e.launch);
  }
}
