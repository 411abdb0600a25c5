import { createPublicKey, type KeyObject, verify } from "node:crypto";
import canonicalize from "canonicalize";
import { keyIdOf, type Statement, statementBytes } from "../record/evidence/signing.js";
import type { AgentKey, Signature } from "../record/index.js";

/**
 * What an agent serves to `report --from-agents` is signed whole (docs/regions-merge.md): the
 * answer's JSON without its `signature` member, in RFC 8785 (JCS) form, Ed25519 by the agent's
 * signing key. The merge adds only answers whose key the operator pinned (--trust-keys).
 */
export type SignedAnswer<T> = T & { readonly signature: Signature };

/** The bytes a signature covers: the answer as JCS, without `signature`. */
function answerBytes(answer: Readonly<Record<string, unknown>>): Buffer {
  const { signature: _, ...rest } = answer;
  // Through JSON first: undefined members are dropped exactly as the wire drops them.
  return Buffer.from(canonicalize(JSON.parse(JSON.stringify(rest))) ?? "", "utf8");
}

export function signAnswer<T extends object>(answer: T, key: AgentKey): SignedAnswer<T> {
  const value = key.signBytes(answerBytes(answer as Record<string, unknown>)).toString("base64");
  return {
    ...answer,
    signature: { alg: "ed25519", key_id: key.keyId, public_key_pem: key.publicKeyPem, value },
  };
}

/** One pinned agent key and, when the key file names it, the one agent id it may sign for. */
export interface PinnedKey {
  readonly key: KeyObject;
  readonly agent: string | null;
}

/** The operator's pinned agent keys, by key id (keyIdOf). */
export type TrustedKeys = ReadonlyMap<string, PinnedKey>;

/** `agent: ID` (or `# agent: ID`) as the last line before a PEM block binds that key to the id. */
const AGENT_LABEL = /(?:^|\n)[ \t]*#?[ \t]*agent:[ \t]*([A-Za-z0-9][A-Za-z0-9._:-]{0,127})[ \t]*\r?\n\s*$/;
const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * Public keys from PEM text (concatenated `BEGIN PUBLIC KEY` blocks; other text between them is
 * ignored). A line `agent: ID` right before a block binds the key to that agent id: the merge then
 * refuses a summary signed with it that names another agent. One key pinned for two ids is refused.
 */
export function parseTrustedKeys(pem: string): TrustedKeys {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new Error("no PEM public key (-----BEGIN PUBLIC KEY-----) in it");
  const keys = new Map<string, PinnedKey>();
  let after = 0;
  blocks.forEach((match, i) => {
    const block = match[0];
    const before = pem.slice(after, match.index);
    after = match.index + block.length;
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch (error) {
      throw new Error(`key ${i + 1}: not a readable public key (${(error as Error).message})`);
    }
    if (key.asymmetricKeyType !== "ed25519") {
      throw new Error(`key ${i + 1}: an agent key is Ed25519, not ${key.asymmetricKeyType}`);
    }
    const agent = agentLabel(before, i + 1);
    const keyId = keyIdOf(key);
    const earlier = keys.get(keyId);
    if (earlier !== undefined && earlier.agent !== agent) {
      throw new Error(
        `key ${i + 1}: key ${keyId} is pinned for agent ${earlier.agent ?? "(any)"} and again for ${agent ?? "(any)"}: pin each key for one agent`,
      );
    }
    keys.set(keyId, { key, agent });
  });
  const rest = pem.slice(after);
  if (ANY_LABEL.test(rest)) {
    throw new Error(
      `an "agent:" line after the last key binds nothing: put it on the line right before its -----BEGIN PUBLIC KEY-----`,
    );
  }
  return keys;
}

/** Any line that means to bind a key: `agent:` (or `# agent:`), whatever follows. */
const ANY_LABEL = /^[ \t]*#?[ \t]*agent:/m;

/**
 * The agent id the text before key `n` binds it to, or null. An `agent:` line anywhere else in
 * that text (a comment between it and the key, a malformed id, two of them) would silently leave
 * the key unbound, free to sign for any agent: it is an error instead.
 */
function agentLabel(before: string, n: number): string | null {
  const bound = AGENT_LABEL.exec(before)?.[1] ?? null;
  const labels = before.split("\n").filter((line) => ANY_LABEL.test(line)).length;
  if (labels > (bound === null ? 0 : 1)) {
    throw new Error(
      `key ${n}: an "agent:" line binds nothing: it must be the line right before -----BEGIN PUBLIC KEY----- (no comment between them), one per key, with an id of letters, digits and . _ : -`,
    );
  }
  return bound;
}

/** Why an answer is not to be trusted, or null with the key id it was signed by. */
export function answerProblem(
  answer: unknown,
  trusted: TrustedKeys,
): { problem: string } | { keyId: string; problem: null } {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer))
    return { problem: "its answer is not a JSON object" };
  const signature = (answer as { signature?: Partial<Signature> }).signature;
  if (typeof signature !== "object" || signature === null)
    return { problem: "its answer is not signed (is it an older slo-agent, or has it no signing key?)" };
  if (signature.alg !== "ed25519" || typeof signature.value !== "string")
    return { problem: "its answer's signature is not an Ed25519 signature" };
  const keyId = typeof signature.key_id === "string" ? signature.key_id : "";
  const key = trusted.get(keyId)?.key;
  if (key === undefined)
    return {
      problem: `it signed with key ${keyId.slice(0, 16) || "(none)"}, which --trust-keys does not pin`,
    };
  const bytes = answerBytes(answer as Record<string, unknown>);
  if (!verify(null, bytes, key, Buffer.from(signature.value, "base64")))
    return { problem: `its answer's signature does not verify under its pinned key ${keyId}` };
  return { keyId, problem: null };
}

/**
 * Why the summary's own signed statement (report.evidence: statement and signature) is not to be
 * trusted, or null. The statement is what a provider checks against the bundle, so it must verify
 * under the same pinned key as the answer: otherwise a pinned agent could rewrite it to name
 * another agent, another month or more records, and the merge would show it as signed.
 */
export function statementProblem(evidence: unknown, keyId: string, trusted: TrustedKeys): string | null {
  const { statement, signature } = (evidence ?? {}) as {
    statement?: unknown;
    signature?: Partial<Signature>;
  };
  if (typeof statement !== "object" || statement === null || Array.isArray(statement))
    return "report.evidence.statement: its signed statement is missing";
  if (typeof signature !== "object" || signature === null || typeof signature.value !== "string")
    return "report.evidence.signature: its statement is not signed";
  if (signature.key_id !== keyId)
    return `its statement is signed with key ${String(signature.key_id).slice(0, 16)}, not the key ${keyId} that signed its answer`;
  let bytes: Buffer;
  try {
    bytes = statementBytes(statement as Statement);
  } catch (error) {
    return `report.evidence.statement: ${(error as Error).message}`;
  }
  const key = trusted.get(keyId)!.key;
  if (!verify(null, bytes, key, Buffer.from(signature.value, "base64")))
    return `its signed statement does not verify under its pinned key ${keyId}`;
  return null;
}
