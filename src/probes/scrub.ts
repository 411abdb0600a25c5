import type { ProbeSpec, Target } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { redactSecrets, Secret, secretForms } from "../model/secret.js";

/**
 * Every form in which this run sends a credential: the `auth` values, the base64 of
 * `user:password` that Basic auth puts on the wire, and each configured header held as a Secret,
 * each with its parts and encodings (secretForms): a server echoing only the token of
 * `Authorization: Bearer X` or `Cookie: sid=X` must not get X into the evidence either.
 */
export function credentialFormsOf(target: Target, spec: ProbeSpec): string[] {
  const forms: string[] = [];
  const auth = target.auth;
  if (auth.type === "basic") {
    const pair = `${auth.username.reveal()}:${auth.password.reveal()}`;
    forms.push(auth.username.reveal(), auth.password.reveal(), Buffer.from(pair, "utf8").toString("base64"));
  }
  if (auth.type === "bearer") forms.push(auth.token.reveal());
  for (const value of Object.values({ ...target.headers, ...("headers" in spec ? spec.headers : {}) }))
    if (value instanceof Secret) forms.push(value.reveal());
  // A value from the environment in a body or a path is sent too, and may come back.
  for (const value of spec.environmentValues ?? []) forms.push(value.reveal());
  return secretForms(forms);
}

/**
 * The result with every credential removed from what the server supplied (error code,
 * correlation id) and from the detail line. A server that echoes the credential back would
 * otherwise put it into hash-chained evidence, where it could never be removed without breaking
 * verification; so it is scrubbed here, before the result is recorded and hashed.
 */
export function withoutCredentials(result: ProbeResult, forms: readonly string[]): ProbeResult {
  if (forms.length === 0) return result;
  const clean = (value: string | null | undefined) => (value ? redactSecrets(value, forms) : value);
  const errorCode = clean(result.errorCode) ?? null;
  const correlationId = clean(result.correlationId) ?? null;
  const detail = clean(result.detail);
  if (errorCode === result.errorCode && correlationId === result.correlationId && detail === result.detail) {
    return result;
  }
  return { ...result, errorCode, correlationId, detail };
}
