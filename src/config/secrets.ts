import { resolve } from "node:path";
import type { TargetAuth } from "../model/config.js";
import { Secret } from "../model/secret.js";
import { readBoundedFile } from "./bounded-read.js";
import type { ConfigProblem } from "./problems.js";
import { type FieldPath, readFailure, type YamlSource } from "./source.js";
import type { AuthWireValue } from "./wire.js";

export interface ResolvedAuth {
  readonly auth: TargetAuth;
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

/** The most a secret file may hold: a credential, not a data set (and `/dev/zero` fails fast). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * Turns a target's wire auth into Secrets, reading `*_file` keys relative to the config file
 * (one trailing newline trimmed). Problems name the file, never what it holds, and never a path
 * that came from the environment (`password_file: "${KLARNA_PASSWORD}"` would print the secret).
 */
export async function resolveAuth(
  wire: AuthWireValue,
  at: FieldPath,
  source: YamlSource,
  configDir: string,
  fromEnvironment: (key: string) => boolean = () => false,
): Promise<ResolvedAuth> {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const secret = async (
    key: string,
    inline: string | undefined,
    file: string | undefined,
  ): Promise<Secret> => {
    if (inline !== undefined) return new Secret(inline);
    if (file === undefined) return new Secret("");
    const shown = fromEnvironment(`${key}_file`) ? "(path from the environment)" : `"${file}"`;
    try {
      const text = await readBoundedFile(resolve(configDir, file), MAX_SECRET_FILE_BYTES);
      return new Secret(text.replace(/\r?\n$/, ""));
    } catch (error) {
      problems.push(source.problem([...at, `${key}_file`], `secret file ${shown}: ${readFailure(error)}`));
      return new Secret("");
    }
  };
  switch (wire.type) {
    case "none":
      return { auth: { type: "none" }, problems, warnings };
    case "bearer": {
      const token = await secret("token", wire.token, wire.token_file);
      return { auth: { type: "bearer", token }, problems, warnings };
    }
    case "basic": {
      const username = await secret("username", wire.username, wire.username_file);
      const password = await secret("password", wire.password, wire.password_file);
      if (username.isEmpty && problems.length === 0) {
        const key = wire.username !== undefined ? "username" : "username_file";
        warnings.push(
          source.problem([...at, key], "empty username: requests to this target will not authenticate"),
        );
      }
      return { auth: { type: "basic", username, password }, problems, warnings };
    }
  }
}
