// A job starting over (output.resume false on the server, a fresh `sfprompt run` session) deletes its
// own checkpoints, and never another job's: checkpoint names carry no job, so two jobs naming one
// spec.output.bucket would otherwise delete each other's (ADR 0045, amendment).
import { isTransientNatsError, type ArtifactStore } from "@sfprompt/protocol";
import type { RunConfig } from "@sfprompt/api";
import { z } from "zod";
import { CheckpointError } from "../runtime/errors.js";
import { ParamSetCodecError } from "../training/errors.js";
import { decodeParamSetWithMeta } from "../training/param-set-codec.js";
import { CHECKPOINT_FORMAT } from "./checkpoints.js";
import { otherJobMessage } from "./bucket-advice.js";

/** Objects under this prefix are checkpoints; a start-over looks at every one of them. */
const CHECKPOINTS = "checkpoints/";

/** Only whose a checkpoint is: any model, spec or round (a start-over deletes those of its own too). */
const OwnerSchema = z.object({ format: z.literal(CHECKPOINT_FORMAT), job: z.string() });

/** The bucket's checkpoints by owner: the job's own, and those that cannot be read (no owner known). */
export interface CheckpointOwners {
  readonly own: string[];
  readonly unreadable: string[];
}

/** What a start-over deleted. */
export interface RemovedCheckpoints extends CheckpointOwners {
  readonly count: number;
}

/**
 * The bucket's checkpoints, all of them the job's own or unreadable; throws CheckpointError (naming
 * the bucket and the field to change) at the first one another job wrote. `startingOver` says what
 * made the job start over ("spec.output.resume: false", "sfprompt run --fresh"), for the message.
 */
export async function checkOwnCheckpoints(
  store: ArtifactStore,
  config: RunConfig,
  startingOver: string,
): Promise<CheckpointOwners> {
  const names = (await store.names()).filter((n) => n.startsWith(CHECKPOINTS));
  const own: string[] = [];
  const unreadable: string[] = [];
  for (const name of names) {
    const owner = await ownerOf(store, name);
    if (owner === null) continue; // deleted since it was listed
    if (owner === undefined) unreadable.push(name);
    else if (owner === config.names.job) own.push(name);
    else
      throw new CheckpointError(
        name,
        otherJobMessage(owner, config.names.job, store.bucket, config, startingOver),
      );
  }
  return { own, unreadable };
}

/**
 * Deletes the job's checkpoints before it starts over, after checking them all (checkOwnCheckpoints):
 * a bucket with another job's checkpoint refuses the start-over and loses nothing. Checkpoints that
 * cannot be read are deleted with the job's own: no other job's was found beside them, and no run
 * could resume from them anyway; leaving them would have a later resume pass over them again.
 */
export async function removeOwnCheckpoints(
  store: ArtifactStore,
  config: RunConfig,
  startingOver: string,
): Promise<RemovedCheckpoints> {
  const owners = await checkOwnCheckpoints(store, config, startingOver);
  for (const n of [...owners.own, ...owners.unreadable]) await store.store.delete(n);
  return { ...owners, count: owners.own.length + owners.unreadable.length };
}

/** The job token in the checkpoint's metadata; undefined when it cannot be read, null when it is gone. */
async function ownerOf(store: ArtifactStore, name: string): Promise<string | undefined | null> {
  let bytes: Uint8Array | null;
  try {
    bytes = await store.get(name);
  } catch (cause) {
    // NATS away says nothing of the checkpoint: the start-over fails rather than guess
    if (isTransientNatsError(cause)) throw cause;
    return undefined;
  }
  if (bytes === null) return null;
  try {
    const { meta } = decodeParamSetWithMeta(bytes, { source: `checkpoint ${name}` });
    const parsed = OwnerSchema.safeParse(meta);
    return parsed.success ? parsed.data.job : undefined;
  } catch (cause) {
    if (cause instanceof ParamSetCodecError) return undefined;
    throw cause;
  }
}
