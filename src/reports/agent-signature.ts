import { createPublicKey, type KeyObject, verify } from "node:crypto";
import canonicalize from "canonicalize";
import type { AgentKey, Signature } from "../record/index.js";
import { keyIdOf } from "../record/signing.js";

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

/** The operator's pinned agent keys, by key id (keyIdOf). */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/** Public keys from PEM text (concatenated `BEGIN PUBLIC KEY` blocks; text between them is ignored). */
export function parseTrustedKeys(pem: string): TrustedKeys {
  const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) throw new Error("no PEM public key (-----BEGIN PUBLIC KEY-----) in it");
  const keys = new Map<string, KeyObject>();
  blocks.forEach((block, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch (error) {
      throw new Error(`key ${i + 1}: not a readable public key (${(error as Error).message})`);
    }
    if (key.asymmetricKeyType !== "ed25519") {
      throw new Error(`key ${i + 1}: an agent key is Ed25519, not ${key.asymmetricKeyType}`);
    }
    keys.set(keyIdOf(key), key);
  });
  return keys;
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
  const key = trusted.get(keyId);
  if (key === undefined)
    return {
      problem: `it signed with key ${keyId.slice(0, 16) || "(none)"}, which --trust-keys does not pin`,
    };
  const bytes = answerBytes(answer as Record<string, unknown>);
  if (!verify(null, bytes, key, Buffer.from(signature.value, "base64")))
    return { problem: `its answer's signature does not verify under its pinned key ${keyId}` };
  return { keyId, problem: null };
}
