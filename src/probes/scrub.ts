import type { ProbeSpec, Target } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { Secret, SecretScrubber } from "../model/secret.js";

/**
 * Every credential value this run sends: the `auth` values, the `user:password` pair Basic auth
 * puts on the wire, each configured header held as a Secret and each value the environment put
 * into the probe or its target. SecretScrubber matches each with its parts and encodings
 * (secretForms): a server echoing only the token of `Authorization: Bearer X` or `Cookie: sid=X`
 * must not get X into the evidence either.
 */
export function credentialValuesOf(target: Target, spec: ProbeSpec): string[] {
  const forms: string[] = [];
  const auth = target.auth;
  if (auth.type === "basic") {
    const pair = `${auth.username.reveal()}:${auth.password.reveal()}`;
    forms.push(auth.username.reveal(), auth.password.reveal(), pair);
  }
  if (auth.type === "bearer") forms.push(auth.token.reveal());
  for (const value of Object.values({ ...target.headers, ...("headers" in spec ? spec.headers : {}) }))
    if (value instanceof Secret) forms.push(value.reveal());
  // A value from the environment in a body, a path or the target's base URL is sent too, and may come back.
  for (const value of [...(target.environmentValues ?? []), ...(spec.environmentValues ?? [])])
    forms.push(value.reveal());
  return forms;
}

/**
 * Every secret value the configuration holds, whichever probe, target, receiver or exporter it
 * belongs to: each Secret (credentials, secret headers, tokens, receivers' secrets, what a
 * `*_file` held) and each value the environment put anywhere but in the agent's own identity and
 * addresses (`secretEnvironmentValues` of the configuration, `environmentValues` of its targets
 * and probes), with the `user:password` pair Basic auth sends. A
 * server may echo another probe's credential (it got it from that probe, or shares a backend), so
 * each result is scrubbed of all of them, not only of its own probe's.
 */
export function agentSecretValues(config: unknown): string[] {
  const values = new Set<string>();
  const seen = new Set<object>();
  const walk = (node: unknown): void => {
    if (node instanceof Secret) {
      values.add(node.reveal());
      return;
    }
    if (node === null || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    const auth = node as { type?: unknown; username?: unknown; password?: unknown };
    if (auth.type === "basic" && auth.username instanceof Secret && auth.password instanceof Secret)
      values.add(`${auth.username.reveal()}:${auth.password.reveal()}`);
    const items = node instanceof Map || node instanceof Set ? [...node.values()] : Object.values(node);
    for (const item of items) walk(item);
  };
  // The top-level list holds the agent's region, id and addresses too: secretEnvironmentValues does not.
  const { environmentValues: _all, ...rest } = (config ?? {}) as { environmentValues?: unknown };
  walk(rest);
  values.delete("");
  return [...values];
}

/**
 * The result with every credential removed from what the server supplied (error code,
 * correlation id) and from the detail line. A server that echoes the credential back would
 * otherwise put it into hash-chained evidence, where it could never be removed without breaking
 * verification; so it is scrubbed here, before the result is recorded and hashed.
 */
export function withoutCredentials(result: ProbeResult, scrubber: SecretScrubber): ProbeResult {
  const clean = (value: string | null | undefined) => (value ? scrubber.scrub(value) : value);
  const errorCode = clean(result.errorCode) ?? null;
  const correlationId = clean(result.correlationId) ?? null;
  const detail = clean(result.detail);
  if (errorCode === result.errorCode && correlationId === result.correlationId && detail === result.detail) {
    return result;
  }
  return { ...result, errorCode, correlationId, detail };
}

const ownScrubbers = new WeakMap<
  ProbeSpec,
  { agent: SecretScrubber | undefined; target: Target; scrubber: SecretScrubber }
>();

/**
 * The scrubber for one run: the agent's (agentSecretValues, built once per configuration) when it
 * covers this run's own credentials -- as it does for every probe of the configuration it was built
 * from --, else the agent's with them added, built once per probe.
 */
export function scrubberForRun(
  agent: SecretScrubber | undefined,
  target: Target,
  spec: ProbeSpec,
): SecretScrubber {
  const cached = ownScrubbers.get(spec);
  if (cached && cached.agent === agent && cached.target === target) return cached.scrubber;
  const own = credentialValuesOf(target, spec);
  const scrubber = agent?.covers(own) ? agent : (agent?.with(own) ?? new SecretScrubber(own));
  ownScrubbers.set(spec, { agent, target, scrubber });
  return scrubber;
}
