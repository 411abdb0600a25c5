import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import canonicalize from "canonicalize";

/** Where the agent keeps its Ed25519 key when `agent.signing_key_file` names none. */
export const DEFAULT_KEY_FILE = "agent-signing-key.pem";

/** A signature as the report and the bundle carry it (contract section 7). */
export interface Signature {
  readonly alg: "ed25519";
  readonly key_id: string;
  readonly public_key_pem: string;
  /** Base64 of the 64 signature bytes. */
  readonly value: string;
}

/** The value of a statement: strings and integers only, so that its JCS form is unambiguous. */
export type StatementValue = string | number;
export type Statement = Readonly<Record<string, StatementValue>>;

/** The UTF-8 bytes a signature covers: the statement as RFC 8785 (JCS) JSON. */
export function statementBytes(statement: Statement): Buffer {
  for (const [key, value] of Object.entries(statement)) {
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new TypeError(`statement field ${key} must be a string or an integer`);
    }
  }
  return Buffer.from(canonicalize(statement) ?? "", "utf8");
}

/** The key id: the first 16 hex digits of SHA-256 over the public key's DER (SPKI) bytes. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

/** The agent's Ed25519 key pair: signs statements and checkpoints. */
export class AgentKey {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly publicKey: KeyObject;
  readonly #privateKey: KeyObject;

  constructor(privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== "ed25519") {
      throw new Error(`signing key must be an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
    }
    this.#privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyPem = this.publicKey.export({ type: "spki", format: "pem" }).toString();
    this.keyId = keyIdOf(this.publicKey);
  }

  signBytes(bytes: Buffer): Buffer {
    return sign(null, bytes, this.#privateKey);
  }

  sign(statement: Statement): Signature {
    return {
      alg: "ed25519",
      key_id: this.keyId,
      public_key_pem: this.publicKeyPem,
      value: this.signBytes(statementBytes(statement)).toString("base64"),
    };
  }
}

/** Whether signature is a valid Ed25519 signature of bytes under the PEM public key. */
export function signatureValid(bytes: Buffer, signature: Buffer, publicKeyPem: string): boolean {
  try {
    const key = publicKeyOf(publicKeyPem);
    return key.asymmetricKeyType === "ed25519" && verify(null, bytes, key, signature);
  } catch {
    return false;
  }
}

/**
 * The public key of a PEM, parsed once: the writer checks the newest checkpoint's signature with
 * the same key before every checkpoint it signs, and parsing the PEM cost as much as verifying.
 * A store, a bundle or a trust list names a handful of keys; the cache is cleared past 64.
 */
const publicKeys = new Map<string, KeyObject>();
function publicKeyOf(pem: string): KeyObject {
  let key = publicKeys.get(pem);
  if (key === undefined) {
    key = createPublicKey(pem);
    if (publicKeys.size >= 64) publicKeys.clear();
    publicKeys.set(pem, key);
  }
  return key;
}

/** The key file: `agent.signing_key_file` when set, else agent-signing-key.pem in the data directory. */
export function keyFileOf(dataDir: string, signingKeyFile: string | null | undefined): string {
  return signingKeyFile ?? join(dataDir, DEFAULT_KEY_FILE);
}

/**
 * Loads the agent key, creating it (PKCS#8 PEM, mode 0600) when the file does not exist yet and
 * create is true. Returns null when it does not exist and may not be created. `signedBy` is the
 * key id the store's checkpoints name: then a missing file is an error naming it, never a new key
 * (a fresh key would sign over whatever the store holds now, rewritten or not).
 */
export function loadAgentKey(
  file: string,
  options: { create: boolean; signedBy?: string | null },
): AgentKey | null {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw keyError(file, error);
    if (options.signedBy != null) throw new MissingKeyError(file, options.signedBy);
    if (!options.create) return null;
    return createKeyFile(file);
  }
  try {
    return new AgentKey(createPrivateKey(pem));
  } catch (error) {
    throw new Error(`signing key ${file}: not a readable Ed25519 private key (${(error as Error).message})`);
  }
}

/** The store's checkpoints are signed by a key whose file is gone. */
export class MissingKeyError extends Error {
  constructor(
    readonly file: string,
    readonly keyId: string,
  ) {
    super(
      `signing key ${file} is missing, and the store's checkpoints are signed by key ${keyId}: restore that key (no new key is created while such checkpoints exist)`,
    );
  }
}

function createKeyFile(file: string): AgentKey {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  try {
    mkdirSync(dirname(file), { recursive: true });
    // wx: two processes creating it at once keep the first one's key.
    writeFileSync(file, pem, { mode: 0o600, flag: "wx" });
    chmodSync(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return loadAgentKey(file, { create: false })!;
    throw keyError(file, error);
  }
  return new AgentKey(privateKey);
}

/** Whether a key file is readable by others than its owner (it should be 0600). */
export function keyFileTooOpen(file: string): boolean {
  try {
    return (statSync(file).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

function keyError(file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new Error(`signing key ${file}: cannot read or create it (${code})`);
}
