// NATS credentials from a mounted Secret directory (the job's credentialsSecret): a `creds` file, or
// `user` + `password`, or `token`. Other keys (the operator's `url`, `job-key`) are not credentials.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { credsAuthenticator, type ConnectionOptions } from "@nats-io/transport-node";
import { SettingsError } from "./errors.js";

export type NatsAuth = Pick<ConnectionOptions, "authenticator" | "user" | "pass" | "token">;
export type AuthKind = "none" | "creds" | "user-password" | "token";

/** Reads the credentials in `dir` (undefined: none); says which kind it found, never the secret. */
export async function readNatsAuth(dir: string | undefined): Promise<{ auth: NatsAuth; kind: AuthKind }> {
  if (dir === undefined) return { auth: {}, kind: "none" };
  const read = async (key: string): Promise<string | undefined> => {
    try {
      return (await readFile(join(dir, key), "utf8")).trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new SettingsError(
        "SFPROMPT_CREDENTIALS_DIR",
        `cannot read ${join(dir, key)}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  };
  const creds = await read("creds");
  if (creds !== undefined)
    return { auth: { authenticator: credsAuthenticator(new TextEncoder().encode(creds)) }, kind: "creds" };
  const [user, password] = [await read("user"), await read("password")];
  if (user !== undefined) {
    if (password === undefined) {
      throw new SettingsError(
        "SFPROMPT_CREDENTIALS_DIR",
        `${join(dir, "user")} is set but ${join(dir, "password")} is missing`,
      );
    }
    return { auth: { user, pass: password }, kind: "user-password" };
  }
  const token = await read("token");
  if (token !== undefined) return { auth: { token }, kind: "token" };
  return { auth: {}, kind: "none" };
}
