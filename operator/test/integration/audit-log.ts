// The API server's own record of the DELETE requests it got for pods (an audit log), for tests that
// count them: a second delete of a pod already being deleted changes nothing a test could read in it.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    verbs: ["delete"]
    resources: [{ group: "", resources: ["pods"] }]
  - level: None
`;

interface AuditEvent {
  verb?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
}

export interface PodDeleteAudit {
  /** kube-apiserver flags that write the log (startWorld's apiServerArgs). */
  apiServerArgs: string[];
  /** DELETE requests the API server has answered so far for pod `name` in namespace default. */
  deletes(name: string): Promise<number>;
  /** Removes the log and its policy. */
  remove(): Promise<void>;
}

export async function podDeleteAudit(): Promise<PodDeleteAudit> {
  const dir = await mkdtemp(join(tmpdir(), "sfprompt-audit-"));
  const policy = join(dir, "policy.yaml");
  const log = join(dir, "audit.log");
  await writeFile(policy, POLICY);
  return {
    // blocking: each event is written before the request is answered, so a count read after a
    // request came back includes it
    apiServerArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${log}`, "--audit-log-mode=blocking"],
    async deletes(name) {
      const text = await readFile(log, "utf8").catch((err: unknown) => {
        throw new Error(`the API server's audit log ${log} cannot be read: was it started with its flags?`, {
          cause: err,
        });
      });
      return text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as AuditEvent)
        .filter(
          (e) =>
            e.verb === "delete" &&
            e.objectRef?.resource === "pods" &&
            e.objectRef.namespace === "default" &&
            e.objectRef.name === name,
        ).length;
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
