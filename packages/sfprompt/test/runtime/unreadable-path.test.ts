// The unreadable-path wording (ADR 0017 amendment 12): a real EACCES from the file system (execute
// access to a 0644 file, refused even to root) names the process's uid/gid and a chown where Node has
// process.getuid, and names no uid and no chown where it has not (Windows), instead of "uid -1".
import assert from "node:assert/strict";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { unreadableDetail } from "@sfprompt/core";

const dir = mkdtempSync(join(tmpdir(), "unreadable-path-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A real permission error: X_OK on a file with no execute bit is EACCES for every user. */
function realEacces(): NodeJS.ErrnoException {
  const file = join(dir, "data.jsonl");
  writeFileSync(file, "{}\n", { mode: 0o644 });
  try {
    accessSync(file, constants.X_OK);
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error(`access X_OK of a 0644 file succeeded: cannot make a permission error here`);
}

test("with process.getuid, the message names the uid, gid and a chown", (t) => {
  if (process.getuid === undefined) return t.skip("no process.getuid on this platform");
  const err = realEacces();
  assert.equal(err.code, "EACCES");
  const text = unreadableDetail({ path: dir, kind: "folder", where: "on this machine" }, err);
  const [uid, gid] = [process.getuid(), process.getgid!()];
  assert.ok(text?.includes(`(uid ${uid}, gid ${gid}; EACCES)`), text);
  assert.ok(text?.includes(`readable by uid ${uid} on this machine: chmod -R a+rX ${dir}`), text);
  assert.ok(text?.includes(`(or chown -R ${uid}:${gid} ${dir})`), text);
});

test("without process.getuid/getgid (Windows), no uid -1 and no chown", (t) => {
  const err = realEacces();
  const saved = { getuid: process.getuid, getgid: process.getgid };
  // Windows' process has neither; put them back whatever happens
  t.after(() => Object.assign(process, saved));
  Object.assign(process, { getuid: undefined, getgid: undefined });
  const file = unreadableDetail({ path: err.path!, kind: "file", where: "on this machine" }, err);
  const folder = unreadableDetail({ path: dir, kind: "folder", where: "on the node" }, err);
  Object.assign(process, saved);
  for (const text of [file, folder]) {
    assert.ok(text !== undefined);
    assert.doesNotMatch(text, /uid -?\d|chown/, text);
    assert.match(text, /cannot be read by this process's user \(EACCES\): make /);
  }
  assert.ok(
    file!.includes(`the file readable by this process's user on this machine: chmod a+r ${err.path}, and`),
  );
  assert.ok(folder!.endsWith(`readable by this process's user on the node: chmod -R a+rX ${dir}`), folder);
});
